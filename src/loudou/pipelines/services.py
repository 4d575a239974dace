"""Pipeline configuration services."""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loudou.core.errors import Conflict, InvalidInput, NotAllowed

from .models import (
    ExitCriterion,
    ForecastCategory,
    Pipeline,
    ProbabilityAdoption,
    Stage,
    StageKind,
)

if TYPE_CHECKING:
    from loudou.people.models import User

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


def pipeline_by_key(key: str | None) -> Pipeline | None:
    """The pipeline with this key; without a key the default one (else the first)."""
    pipelines = Pipeline.objects.all()
    if key:
        return pipelines.filter(key=key).first()
    return pipelines.filter(is_default=True).first() or pipelines.first()


@transaction.atomic
def adopt_learned_probabilities(
    *,
    actor: "User",
    pipeline: Pipeline,
    window_days: int = 365,
    now: dt.datetime | None = None,
) -> ProbabilityAdoption:
    """Set each open stage's probability to its historical stage-to-win rate over the
    last ``window_days`` days of closures (the stage_probability report, over every
    deal), where at least MIN_SAMPLE closed deals reached the stage; record the change so
    that ``revert_probability_adoption`` can undo it. Admins only."""
    from loudou.analytics.history import MIN_SAMPLE
    from loudou.reports.services import run_report  # reports depend on pipelines

    if not actor.is_loudou_admin:
        raise NotAllowed(_("Only an admin can change stage probabilities."))
    now = now or timezone.now()
    result = run_report(
        name="stage_probability", user=None, now=now, pipeline=pipeline.key, window_days=window_days
    )
    stages = {s.key: s for s in Stage.objects.select_for_update().filter(pipeline=pipeline)}
    changes = []
    for row in result.rows:
        stage = stages.get(row["stage"])
        if stage is None or row["sample"] < MIN_SAMPLE:
            continue
        new = Decimal(str(row["historical_probability"])).quantize(Decimal("0.0001"))
        if new == stage.probability:
            continue
        changes.append(
            {
                "stage_id": stage.pk,
                "key": stage.key,
                "old": str(stage.probability),
                "new": str(new),
                "sample": row["sample"],
                "ci_low": row["ci_low"],
                "ci_high": row["ci_high"],
            }
        )
        stage.probability = new
        stage.save(update_fields=["probability"])
    if not changes:
        raise InvalidInput(
            {
                "probabilities": _(
                    "Nothing to adopt: no stage has %(n)d or more closed deals in the window "
                    "with a rate different from the configured one."
                )
                % {"n": MIN_SAMPLE}
            }
        )
    return ProbabilityAdoption.objects.create(
        pipeline=pipeline,
        adopted_by=actor,
        adopted_at=now,
        window_days=window_days,
        changes=changes,
    )


@transaction.atomic
def revert_probability_adoption(
    *, actor: "User", adoption: ProbabilityAdoption, now: dt.datetime | None = None
) -> ProbabilityAdoption:
    """Put back the probabilities an adoption replaced. Refused when it was reverted
    already, or when a stage's probability has changed since (revert later changes
    first), so that nobody's later edit is silently overwritten. Admins only."""
    if not actor.is_loudou_admin:
        raise NotAllowed(_("Only an admin can change stage probabilities."))
    adoption = ProbabilityAdoption.objects.select_for_update().get(pk=adoption.pk)
    if adoption.reverted_at is not None:
        raise Conflict(_("This adoption was reverted already."))
    stages = Stage.objects.select_for_update().in_bulk([c["stage_id"] for c in adoption.changes])
    changed = [
        c["key"]
        for c in adoption.changes
        if c["stage_id"] in stages and stages[c["stage_id"]].probability != Decimal(c["new"])
    ]
    if changed:
        raise Conflict(
            _("The probability of %(stages)s changed since; revert or edit it first.")
            % {"stages": ", ".join(changed)}
        )
    for change in adoption.changes:
        stage = stages.get(change["stage_id"])
        if stage is not None:
            stage.probability = Decimal(change["old"])
            stage.save(update_fields=["probability"])
    adoption.reverted_at = now or timezone.now()
    adoption.reverted_by = actor
    adoption.save(update_fields=["reverted_at", "reverted_by"])
    return adoption


# ---------------------------------------------------------------------------------------
# Configuration by administrators (the Django admin and the API)

STAGE_FIELDS = ("name_zh", "name_en", "probability", "forecast_category", "rot_days")
CRITERION_FIELDS = (
    "kind",
    "field_name",
    "field_check",
    "min_value",
    "activity_type",
    "min_count",
    "attachment_kind",
    "description_zh",
    "description_en",
)


def _require_admin(actor: "User") -> None:
    from loudou.people.access import Scope

    if not Scope.of(actor).may_configure:
        raise NotAllowed(_("Only an administrator may do this."))


def _clean(obj: Stage | ExitCriterion) -> None:
    from django.core.exceptions import ValidationError

    from loudou.core.errors import from_validation_error

    try:
        obj.full_clean()
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


@transaction.atomic
def update_stage(*, actor: "User", stage: Stage, changes: dict) -> Stage:
    """Rename a stage, or change its probability, forecast category or rot days. The Won
    and Lost stages keep their probabilities (1 and 0)."""
    _require_admin(actor)
    unknown = set(changes) - set(STAGE_FIELDS)
    if unknown:
        raise InvalidInput({k: _("This field cannot be changed here.") for k in sorted(unknown)})
    if "probability" in changes and stage.kind != StageKind.OPEN:
        raise InvalidInput({"probability": _("The Won and Lost stages keep theirs.")})
    for key, value in changes.items():
        setattr(stage, key, value.strip() if isinstance(value, str) else value)
    _clean(stage)
    stage.save()
    return stage


@transaction.atomic
def add_exit_criterion(*, actor: "User", stage: Stage, **values: object) -> ExitCriterion:
    """A new exit criterion of an open stage (checked as the admin form checks it)."""
    _require_admin(actor)
    unknown = set(values) - set(CRITERION_FIELDS)
    if unknown:
        raise InvalidInput({k: _("This field cannot be changed here.") for k in sorted(unknown)})
    criterion = ExitCriterion(stage=stage, **values)
    _clean(criterion)
    criterion.save()
    return criterion


@transaction.atomic
def remove_exit_criterion(*, actor: "User", criterion: ExitCriterion) -> None:
    _require_admin(actor)
    criterion.delete()
