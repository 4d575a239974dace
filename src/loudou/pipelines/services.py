"""Pipeline configuration services."""

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loudou.core.errors import Conflict, InvalidInput, NotAllowed, from_validation_error

from .models import (
    CriterionKind,
    CustomField,
    ExitCriterion,
    FieldCheck,
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
    pipelines = Pipeline.objects.all()  # archived ones too: their reports stay
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


@transaction.atomic
def create_mirror_pipeline(
    *, key: str, name_zh: str, name_en: str, currency: str, stages: list[dict]
) -> Pipeline:
    """A new pipeline with ``stages`` (dicts: key, name, probability as a fraction) as its
    open stages in that order, then Won and Lost (used by the migration's mirror
    pipeline). A key already taken gets a numbered suffix."""
    base, n = key, 1
    while Pipeline.objects.filter(key=key).exists():
        n += 1
        key = f"{base[:45]}-{n}"
    pipeline = Pipeline.objects.create(
        key=key, name_zh=name_zh, name_en=name_en, currency=currency[:3].upper() or "CNY"
    )
    for position, spec in enumerate(stages, start=1):
        Stage.objects.create(
            pipeline=pipeline,
            key=spec["key"],
            name_zh=spec["name"],
            name_en=spec["name"],
            probability=spec["probability"],
            position=position * 10,
        )
    ensure_outcome_stages(pipeline)
    return pipeline


# -- configuration by admins (the settings pages) ---------------------------------------------

MAX_OPEN_POSITION = 990  # open stages sit below the Won/Lost outcomes (1000, 1001)


def require_admin(actor: "User") -> None:
    """Configuration is for admins (role admin or superuser), active ones."""
    if not (actor.is_active and actor.is_loudou_admin):
        raise NotAllowed(_("Only an admin can change the configuration."))


def _save(obj: Any, **unique_fields: Any) -> None:
    """Validate ``obj`` as the model says (fields, clean, unique) and save it; a refusal
    is an InvalidInput naming the fields, and nothing is written."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise from_validation_error(exc, type(obj)) from exc
    obj.save()


def probability_from_percent(percent: Decimal | str | float | None) -> Decimal:
    """ "25" or "25.5" (%) -> Decimal("0.2550"); refuses what is not a number from 0 to 100."""
    try:
        value = Decimal(str(percent).strip().rstrip("%"))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput({"probability": _("A probability is a percentage, 0 to 100.")}) from exc
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise InvalidInput({"probability": _("A probability is a percentage, 0 to 100.")})
    return (value / 100).quantize(Decimal("0.0001"))


@transaction.atomic
def create_pipeline(*, actor: "User", key: str, name_zh: str, name_en: str) -> Pipeline:
    """A new pipeline with one open stage and its Won and Lost outcomes."""
    require_admin(actor)
    pipeline = Pipeline(key=key.strip(), name_zh=name_zh.strip(), name_en=name_en.strip())
    _save(pipeline)
    _save(
        Stage(
            pipeline=pipeline,
            key="stage-1",
            kind=StageKind.OPEN,
            position=10,
            name_zh="阶段 1",
            name_en="Stage 1",
            probability=Decimal("0.1"),
        )
    )
    ensure_outcome_stages(pipeline)
    return pipeline


@transaction.atomic
def rename_pipeline(*, actor: "User", pipeline: Pipeline, name_zh: str, name_en: str) -> Pipeline:
    require_admin(actor)
    pipeline.name_zh, pipeline.name_en = name_zh.strip(), name_en.strip()
    _save(pipeline)
    return pipeline


@transaction.atomic
def archive_pipeline(*, actor: "User", pipeline: Pipeline, archived: bool = True) -> Pipeline:
    """Archive a pipeline (no new deals; it leaves the pickers; its deals, history and
    reports stay), or bring it back. The default pipeline stays in use."""
    require_admin(actor)
    if archived and pipeline.is_default:
        raise InvalidInput({"pipeline": _("The default pipeline cannot be archived.")})
    Pipeline.objects.filter(pk=pipeline.pk).update(archived=archived)
    pipeline.refresh_from_db()
    return pipeline


@transaction.atomic
def add_stage(
    *,
    actor: "User",
    pipeline: Pipeline,
    key: str,
    name_zh: str,
    name_en: str,
    probability_percent: Decimal | str,
    rot_days: int = 14,
) -> Stage:
    """A new open stage after the last one."""
    require_admin(actor)
    top = (
        Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN).aggregate(m=Max("position"))[
            "m"
        ]
        or 0
    )
    if top + 10 > MAX_OPEN_POSITION:
        raise InvalidInput({"stage": _("A pipeline has at most 99 open stages.")})
    stage = Stage(
        pipeline=pipeline,
        key=key.strip(),
        kind=StageKind.OPEN,
        position=top + 10,
        name_zh=name_zh.strip(),
        name_en=name_en.strip(),
        probability=probability_from_percent(probability_percent),
        rot_days=rot_days,
    )
    _save(stage)
    return stage


@transaction.atomic
def update_stage(
    *,
    actor: "User",
    stage: Stage,
    name_zh: str,
    name_en: str,
    probability_percent: Decimal | str,
    rot_days: int,
    forecast_category: str | None = None,
) -> Stage:
    """Rename an open stage, set its probability (a percentage), rot days and default
    forecast category. The Won and Lost outcomes keep their fixed probabilities."""
    require_admin(actor)
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    stage.name_zh, stage.name_en = name_zh.strip(), name_en.strip()
    if stage.kind == StageKind.OPEN:
        stage.probability = probability_from_percent(probability_percent)
        if forecast_category is not None:
            stage.forecast_category = forecast_category
    if not 1 <= int(rot_days) <= 3650:
        raise InvalidInput({"rot_days": _("Rot days: from 1 to 3,650.")})
    stage.rot_days = int(rot_days)
    _save(stage)
    return stage


@transaction.atomic
def reorder_stages(*, actor: "User", pipeline: Pipeline, stage_ids: list[int]) -> list[Stage]:
    """Put the open stages of ``pipeline`` in the order of ``stage_ids`` (every open stage,
    each once). Events keep pointing at the same stages."""
    require_admin(actor)
    stages = {
        s.pk: s
        for s in Stage.objects.select_for_update().filter(pipeline=pipeline, kind=StageKind.OPEN)
    }
    if sorted(stage_ids) != sorted(stages) or len(set(stage_ids)) != len(stage_ids):
        raise InvalidInput({"order": _("List every open stage of the pipeline once.")})
    # Positions are unique per pipeline: move every stage out of the way first.
    for i, stage_id in enumerate(stage_ids):
        Stage.objects.filter(pk=stage_id).update(position=2000 + i)
    for i, stage_id in enumerate(stage_ids):
        Stage.objects.filter(pk=stage_id).update(position=10 * (i + 1))
    return list(Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN).order_by("position"))


def stage_in_use(stage: Stage) -> bool:
    """Does any deal sit in, or any stage change point at, ``stage``?"""
    from loudou.deals.models import Deal, StageEvent  # deals sit above pipelines

    return (
        Deal.objects.filter(stage=stage).exists()
        or StageEvent.objects.filter(to_stage=stage).exists()
        or StageEvent.objects.filter(from_stage=stage).exists()
    )


@transaction.atomic
def archive_stage(*, actor: "User", stage: Stage) -> str:
    """Remove an open stage from use: archived when deals or events point at it (history
    is never rewritten), deleted when nothing does. Returns "archived" or "deleted"."""
    require_admin(actor)
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    if stage.kind != StageKind.OPEN:
        raise InvalidInput({"stage": _("The Won and Lost outcomes stay.")})
    others = Stage.objects.filter(pipeline_id=stage.pipeline_id, kind=StageKind.OPEN)
    if not others.filter(archived=False).exclude(pk=stage.pk).exists():
        raise InvalidInput({"stage": _("A pipeline keeps at least one open stage in use.")})
    if stage_in_use(stage):
        stage.archived = True
        stage.save(update_fields=["archived"])
        return "archived"
    stage.delete()
    return "deleted"


@transaction.atomic
def restore_stage(*, actor: "User", stage: Stage) -> Stage:
    require_admin(actor)
    Stage.objects.filter(pk=stage.pk).update(archived=False)
    stage.refresh_from_db()
    return stage


# What each kind of exit criterion checks: only these columns of the chosen kind are kept.
CRITERION_KIND_FIELDS = {
    CriterionKind.FIELD: {"field_name", "field_check", "min_value"},
    CriterionKind.ACTIVITY: {"activity_type", "min_count"},
    CriterionKind.ATTACHMENT: {"attachment_kind"},
    CriterionKind.APPROVAL: set(),
}


def _criterion_rule(
    *,
    kind: str,
    field_name: str,
    field_check: str,
    min_value: Decimal | None,
    activity_type: str,
    min_count: int,
    attachment_kind: str,
) -> dict[str, Any]:
    """The columns of a criterion of ``kind``, checked: the chosen kind's values, every
    other column blank (the rule reps read is exactly these). Adding and editing share it,
    so an edited criterion obeys what a new one does."""
    from loudou.activities.models import ActivityType  # activities sit beside deals
    from loudou.deals.models import AttachmentKind  # deals sit above pipelines

    if kind not in CRITERION_KIND_FIELDS:
        raise InvalidInput({"kind": _("Pick what the criterion checks.")})
    given = {
        "field_name": field_name,
        "field_check": field_check,
        "min_value": min_value,
        "activity_type": activity_type,
        "min_count": min_count,
        "attachment_kind": attachment_kind,
    }
    blank = {"min_value": None, "min_count": 1}
    wanted = CRITERION_KIND_FIELDS[CriterionKind(kind)]
    values = {k: (v if k in wanted else blank.get(k, "")) for k, v in given.items()}
    if kind == CriterionKind.FIELD and field_check != FieldCheck.AT_LEAST:
        values["min_value"] = None
    if kind == CriterionKind.ACTIVITY:
        if not 1 <= int(min_count) <= 1000:
            raise InvalidInput({"min_count": _("A count from 1 to 1,000.")})
        # Reps read the type's name: one the app does not know could not be said.
        if activity_type and activity_type not in ActivityType.values:
            raise InvalidInput({"activity_type": _("Pick an activity type, or any type.")})
    if kind == CriterionKind.ATTACHMENT and attachment_kind not in AttachmentKind.values:
        raise InvalidInput({"attachment_kind": _("Name the attachment kind required.")})
    return values


@transaction.atomic
def add_criterion(
    *,
    actor: "User",
    stage: Stage,
    kind: str,
    field_name: str = "",
    field_check: str = "",
    min_value: Decimal | None = None,
    activity_type: str = "",
    min_count: int = 1,
    attachment_kind: str = "",
    description_zh: str = "",
    description_en: str = "",
) -> ExitCriterion:
    """A new exit criterion of an open stage, checked as the model says (a field that
    exists, a check, a minimum for "at least", a kind of attachment); a description, when
    given, is what reps read instead of the generated words."""
    require_admin(actor)
    values = _criterion_rule(
        kind=kind,
        field_name=field_name,
        field_check=field_check,
        min_value=min_value,
        activity_type=activity_type,
        min_count=min_count,
        attachment_kind=attachment_kind,
    )
    criterion = ExitCriterion(
        stage=stage,
        kind=kind,
        description_zh=description_zh.strip(),
        description_en=description_en.strip(),
        **values,
    )
    _save(criterion)
    return criterion


@transaction.atomic
def update_criterion(
    *,
    actor: "User",
    criterion: ExitCriterion,
    kind: str,
    field_name: str = "",
    field_check: str = "",
    min_value: Decimal | None = None,
    activity_type: str = "",
    min_count: int = 1,
    attachment_kind: str = "",
    description_zh: str = "",
    description_en: str = "",
) -> ExitCriterion:
    """Change what an exit criterion checks, with the checks of ``add_criterion``; its
    stage stays. The new rule holds for moves from now on. Nothing recorded before changes:
    a forced move keeps the words of the criteria it overrode, as they read then
    (``StageEvent.overridden``), and approvals belong to the stay, not to a criterion."""
    require_admin(actor)
    criterion = (
        ExitCriterion.objects.select_for_update().select_related("stage").get(pk=criterion.pk)
    )
    values = _criterion_rule(
        kind=kind,
        field_name=field_name,
        field_check=field_check,
        min_value=min_value,
        activity_type=activity_type,
        min_count=min_count,
        attachment_kind=attachment_kind,
    )
    criterion.kind = kind
    criterion.description_zh = description_zh.strip()
    criterion.description_en = description_en.strip()
    for name, value in values.items():
        setattr(criterion, name, value)
    _save(criterion)
    return criterion


@transaction.atomic
def delete_criterion(*, actor: "User", criterion: ExitCriterion) -> None:
    """Exit criteria are rules for moves to come; past moves keep what they recorded."""
    require_admin(actor)
    criterion.delete()


@transaction.atomic
def create_custom_field(
    *, actor: "User", key: str, name_zh: str, name_en: str, type: str
) -> CustomField:
    require_admin(actor)
    field = CustomField(
        key=key.strip(), name_zh=name_zh.strip(), name_en=name_en.strip(), type=type
    )
    _save(field)
    return field


@transaction.atomic
def rename_custom_field(
    *, actor: "User", field: CustomField, name_zh: str, name_en: str
) -> CustomField:
    """Names only: the key and type stay, as deals store their values under the key."""
    require_admin(actor)
    field.name_zh, field.name_en = name_zh.strip(), name_en.strip()
    _save(field)
    return field
