"""Pipelines, stages and exit criteria: everyone reads them; administrators change them
(through ``pipelines.services``)."""

from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import Field

from loudou.activities.models import ActivityType
from loudou.core.errors import InvalidInput
from loudou.deals.models import AttachmentKind
from loudou.limits import MAX_AMOUNT
from loudou.pipelines import services
from loudou.pipelines.models import (
    CriterionKind,
    ExitCriterion,
    FieldCheck,
    Pipeline,
    Stage,
    StageKind,
)

from .common import errors, get_or_404
from .inputs import Id, Key, text

router = Router(tags=["pipelines"])


class CriterionOut(Schema):
    id: int
    stage: str
    kind: str
    field_name: str
    field_check: str
    min_value: str | None
    activity_type: str
    min_count: int
    attachment_kind: str
    description_zh: str
    description_en: str


class StageOut(Schema):
    id: int
    key: str
    kind: str
    position: int
    name: str
    name_zh: str
    name_en: str
    probability: str
    forecast_category: str
    rot_days: int
    exit_criteria: list[CriterionOut]


class PipelineOut(Schema):
    id: int
    key: str
    name: str
    name_zh: str
    name_en: str
    is_default: bool
    currency: str
    stages: list[StageOut]


def criterion_out(c: ExitCriterion, stage_key: str) -> dict[str, Any]:
    return {
        "id": c.pk,
        "stage": stage_key,
        "kind": c.kind,
        "field_name": c.field_name,
        "field_check": c.field_check,
        "min_value": None if c.min_value is None else f"{c.min_value:.2f}",
        "activity_type": c.activity_type,
        "min_count": c.min_count,
        "attachment_kind": c.attachment_kind,
        "description_zh": c.description_zh,
        "description_en": c.description_en,
    }


def stage_out(s: Stage) -> dict[str, Any]:
    return {
        "id": s.pk,
        "key": s.key,
        "kind": s.kind,
        "position": s.position,
        "name": s.name,
        "name_zh": s.name_zh,
        "name_en": s.name_en,
        "probability": f"{s.probability:.4f}",
        "forecast_category": s.forecast_category,
        "rot_days": s.rot_days,
        "exit_criteria": [criterion_out(c, s.key) for c in s.exit_criteria.all()],
    }


def pipeline_out(p: Pipeline) -> dict[str, Any]:
    return {
        "id": p.pk,
        "key": p.key,
        "name": p.name,
        "name_zh": p.name_zh,
        "name_en": p.name_en,
        "is_default": p.is_default,
        "currency": p.currency,
        "stages": [stage_out(s) for s in p.stages.all()],
    }


def _pipelines() -> Any:
    return Pipeline.objects.prefetch_related("stages__exit_criteria")


@router.get("/pipelines", response={200: list[PipelineOut], **errors()})
def list_pipelines(request: HttpRequest) -> Any:
    """Every pipeline with its stages and their exit criteria."""
    return [pipeline_out(p) for p in _pipelines()]


@router.get("/pipelines/{key}", response={200: PipelineOut, **errors(404)})
def get_pipeline(request: HttpRequest, key: Key) -> Any:
    return pipeline_out(get_or_404(_pipelines(), key=key))


class StagePatch(Schema):
    name_zh: text(100) | None = None
    name_en: text(100) | None = None
    probability: Decimal | None = Field(None, ge=0, le=1, decimal_places=4, allow_inf_nan=False)
    forecast_category: Literal["pipeline", "best_case", "commit", "omitted", "closed"] | None = None
    rot_days: int | None = Field(None, ge=1, le=3650)


@router.patch("/stages/{stage_id}", response={200: StageOut, **errors(403, 404)})
def update_stage(request: HttpRequest, stage_id: Id, payload: StagePatch) -> Any:
    """Rename a stage or change its probability, forecast category, rot days (admins)."""
    stage = get_or_404(Stage.objects, pk=stage_id)
    given = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    if "probability" in given and stage.kind != StageKind.OPEN:
        raise InvalidInput({"probability": _("The Won and Lost stages keep theirs.")})
    # What the request leaves out stays as it is (one update_stage for pages and API).
    probability = given.get("probability", stage.probability)
    updated = services.update_stage(
        actor=request.user,
        stage=stage,
        name_zh=given.get("name_zh", stage.name_zh),
        name_en=given.get("name_en", stage.name_en),
        probability_percent=probability * 100,
        rot_days=given.get("rot_days", stage.rot_days),
        forecast_category=given.get("forecast_category"),
    )
    return stage_out(updated)


class CriterionIn(Schema):
    kind: Literal[tuple(CriterionKind.values)]  # type: ignore[valid-type]
    field_name: text(80) = ""
    field_check: Literal[("", *FieldCheck.values)] = ""  # type: ignore[valid-type]
    min_value: Decimal | None = Field(
        None, ge=-MAX_AMOUNT, le=MAX_AMOUNT, decimal_places=2, allow_inf_nan=False
    )
    activity_type: Literal[("", *ActivityType.values)] = ""  # type: ignore[valid-type]
    min_count: int = Field(1, ge=1, le=1000)
    attachment_kind: Literal[("", *AttachmentKind.values)] = ""  # type: ignore[valid-type]
    description_zh: text(200) = ""
    description_en: text(200) = ""


@router.post("/stages/{stage_id}/exit-criteria", response={201: CriterionOut, **errors(403, 404)})
def add_criterion(request: HttpRequest, stage_id: Id, payload: CriterionIn) -> Any:
    """A new exit criterion of an open stage (admins)."""
    stage = get_or_404(Stage.objects, pk=stage_id)
    criterion = services.add_criterion(actor=request.user, stage=stage, **payload.model_dump())
    return Status(201, criterion_out(criterion, stage.key))


@router.put("/exit-criteria/{criterion_id}", response={200: CriterionOut, **errors(403, 404)})
def update_criterion(request: HttpRequest, criterion_id: Id, payload: CriterionIn) -> Any:
    """Replace what an exit criterion checks (admins); its stage stays. Moves from now on
    follow the new rule; forced moves already recorded keep the words they overrode."""
    criterion = get_or_404(ExitCriterion.objects.select_related("stage"), pk=criterion_id)
    updated = services.update_criterion(
        actor=request.user, criterion=criterion, **payload.model_dump()
    )
    return criterion_out(updated, criterion.stage.key)


@router.delete("/exit-criteria/{criterion_id}", response={204: None, **errors(403, 404)})
def remove_criterion(request: HttpRequest, criterion_id: Id) -> Any:
    """Remove an exit criterion (admins)."""
    criterion = get_or_404(ExitCriterion.objects, pk=criterion_id)
    services.delete_criterion(actor=request.user, criterion=criterion)
    return Status(204, None)
