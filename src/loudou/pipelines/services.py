"""Pipeline configuration services."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Max

from .models import ForecastCategory, Pipeline, Stage, StageKind

OUTCOMES = (
    (StageKind.WON, "won", "签约成单", "Won (signed)", Decimal(1), ForecastCategory.CLOSED),
    (StageKind.LOST, "lost", "输单", "Lost", Decimal(0), ForecastCategory.OMITTED),
)


@transaction.atomic
def ensure_outcome_stages(pipeline: Pipeline) -> None:
    """Give ``pipeline`` its Won and Lost stages if it lacks them (placed after every
    open stage, far enough apart that open stages can be inserted before them)."""
    top = Stage.objects.filter(pipeline=pipeline).aggregate(m=Max("position"))["m"] or 0
    for offset, (kind, key, zh, en, probability, category) in enumerate(OUTCOMES, start=1):
        if Stage.objects.filter(pipeline=pipeline, kind=kind).exists():
            continue
        Stage.objects.create(
            pipeline=pipeline,
            kind=kind,
            key=key,
            name_zh=zh,
            name_en=en,
            probability=probability,
            forecast_category=category,
            position=max(top, 999) + offset,
        )
