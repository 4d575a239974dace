"""Pipelines: ordered open stages, the Won and Lost outcomes, and exit criteria."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from loudou.limits import MAX_AMOUNT


def localized(zh: str, en: str) -> str:
    """Pick the zh-Hans or English text for the active language (English as fallback)."""
    lang = (get_language() or "zh-hans").lower()
    return (zh or en) if lang.startswith("zh") else (en or zh)


class Pipeline(models.Model):
    """A sales process (销售流程): open stages S1..Sn, then Won or Lost."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    name_zh = models.CharField(_("name (zh-Hans)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    is_default = models.BooleanField(_("default pipeline"), default=False)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    # An archived pipeline takes no new deals and leaves the pickers; its deals, history
    # and reports stay.
    archived = models.BooleanField(_("archived"), default=False, db_default=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="pipelines_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self.name_zh, self.name_en)

    def open_stages(self) -> list["Stage"]:
        """The open stages in order (S1..Sn)."""
        return [s for s in self.stages.all() if s.kind == StageKind.OPEN]

    def outcome(self, kind: str) -> "Stage":
        return self.stages.get(kind=kind)


class StageKind(models.TextChoices):
    OPEN = "open", _("Open stage")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class ForecastCategory(models.TextChoices):
    # Contexts: "Pipeline" is also a pipeline of stages (销售流程), this the open deals
    # not yet best case (管道); "Closed" is also the deal page's label of the closing
    # time (关闭时间).
    PIPELINE = "pipeline", pgettext_lazy("forecast category", "Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", pgettext_lazy("forecast category", "Closed")
    OMITTED = "omitted", _("Omitted")


class Stage(models.Model):
    """A stage of a pipeline. Open stages are ordered by ``position``; the Won and Lost
    outcomes are stages too (kind won/lost) so that every stage change points at a row."""

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    key = models.SlugField(_("key"), max_length=50)
    kind = models.CharField(_("kind"), max_length=4, choices=StageKind.choices, default="open")
    position = models.PositiveIntegerField(_("position"))
    name_zh = models.CharField(_("name (zh-Hans)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    probability = models.DecimalField(
        _("win probability"), max_digits=5, decimal_places=4, help_text=_("A fraction, 0 to 1.")
    )
    forecast_category = models.CharField(
        _("default forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    rot_days = models.PositiveIntegerField(
        _("rot days"), default=14, help_text=_("A deal untouched this long is stale.")
    )
    # A stage in use is archived, never deleted: its events keep pointing at it and the
    # reports keep counting it; no deal may enter it any more (deals.rules).
    archived = models.BooleanField(_("archived"), default=False, db_default=False)

    class Meta:
        ordering = ["pipeline_id", "position", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "key"], name="pipelines_stage_unique_key"),
            models.UniqueConstraint(
                fields=["pipeline", "position"], name="pipelines_stage_unique_position"
            ),
            models.UniqueConstraint(
                fields=["pipeline", "kind"],
                condition=~Q(kind="open"),
                name="pipelines_stage_one_outcome_each",
            ),
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=1),
                name="pipelines_stage_probability_range",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["open", "won", "lost"]), name="pipelines_stage_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind="won") | Q(probability=1), name="pipelines_stage_won_certain"
            ),
            models.CheckConstraint(
                condition=~Q(kind="lost") | Q(probability=0), name="pipelines_stage_lost_zero"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self.name_zh, self.name_en)

    @property
    def is_open(self) -> bool:
        return self.kind == StageKind.OPEN

    def clean(self) -> None:
        if self.probability is not None and not Decimal(0) <= self.probability <= Decimal(1):
            raise ValidationError({"probability": _("A probability is a fraction from 0 to 1.")})


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    BOOLEAN = "boolean", _("Yes/no")
    DATE = "date", _("Date")


class CustomField(models.Model):
    """A custom deal field (stored in ``Deal.custom`` under ``key``)."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    name_zh = models.CharField(_("name (zh-Hans)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    type = models.CharField(_("type"), max_length=8, choices=FieldType.choices)

    class Meta:
        ordering = ["id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self.name_zh, self.name_en)


class CriterionKind(models.TextChoices):
    FIELD = "field", _("Field requirement")
    ACTIVITY = "activity", _("Activities since entering the stage")
    ATTACHMENT = "attachment", _("Attachment of a kind")
    APPROVAL = "approval", _("Manager approval")


class FieldCheck(models.TextChoices):
    FILLED = "filled", _("is filled")
    TRUE = "true", _("is true")
    AT_LEAST = "at_least", _("is at least")


class ExitCriterion(models.Model):
    """A condition a deal must meet to leave ``stage`` for a later one (阶段升迁标志).

    - field: ``field_name`` (a deal field, or ``custom.<key>``) is filled / true / at
      least ``min_value``;
    - activity: at least ``min_count`` activities of ``activity_type`` (any type when
      blank) since the deal entered its current stage;
    - attachment: the deal has an attachment of ``attachment_kind``;
    - approval: a manager approved leaving this stage during the current stay.
    """

    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="exit_criteria"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=CriterionKind.choices)
    field_name = models.CharField(_("field"), max_length=80, blank=True)
    field_check = models.CharField(_("check"), max_length=8, choices=FieldCheck.choices, blank=True)
    min_value = models.DecimalField(
        _("minimum value"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(-MAX_AMOUNT), MaxValueValidator(MAX_AMOUNT)],
    )
    activity_type = models.CharField(_("activity type"), max_length=10, blank=True)
    min_count = models.PositiveIntegerField(_("minimum count"), default=1)
    attachment_kind = models.CharField(_("attachment kind"), max_length=20, blank=True)
    description_zh = models.CharField(_("description (zh-Hans)"), max_length=200, blank=True)
    description_en = models.CharField(_("description (English)"), max_length=200, blank=True)

    class Meta:
        ordering = ["stage_id", "id"]
        verbose_name = _("exit criterion")
        verbose_name_plural = _("exit criteria")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="field") | (~Q(field_name="") & ~Q(field_check="")),
                name="pipelines_criterion_field_complete",
            ),
            models.CheckConstraint(
                condition=~Q(field_check="at_least") | Q(min_value__isnull=False),
                name="pipelines_criterion_at_least_has_value",
            ),
            models.CheckConstraint(
                condition=~Q(kind="attachment") | ~Q(attachment_kind=""),
                name="pipelines_criterion_attachment_kind",
            ),
            models.CheckConstraint(
                condition=Q(min_count__gte=1), name="pipelines_criterion_min_count_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | (Q(min_value__gte=-MAX_AMOUNT) & Q(min_value__lte=MAX_AMOUNT)),
                name="pipelines_criterion_min_value_range",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["field", "activity", "attachment", "approval"]),
                name="pipelines_criterion_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage}: {self.get_kind_display()}"

    def clean(self) -> None:
        if self.stage_id and self.stage.kind != StageKind.OPEN:
            raise ValidationError(_("Only open stages have exit criteria."))
        if self.kind == CriterionKind.FIELD:
            if not self.field_name or not self.field_check:
                raise ValidationError(_("A field requirement names a field and a check."))
            from loudou.deals.criteria import field_exists, field_label, holds_number

            if not field_exists(self.field_name):
                raise ValidationError({"field_name": _("No such deal field or custom field.")})
            if self.field_check == FieldCheck.AT_LEAST and self.min_value is None:
                raise ValidationError({"min_value": _("'At least' needs a minimum value.")})
            if self.field_check == FieldCheck.AT_LEAST and not holds_number(self.field_name):
                raise ValidationError(
                    {
                        "field_name": _(
                            "“%(field)s” holds no number: “at least” compares numbers (the "
                            "amount or a number custom field)."
                        )
                        % {"field": field_label(self.field_name)}
                    }
                )
        if self.kind == CriterionKind.ATTACHMENT and not self.attachment_kind:
            raise ValidationError({"attachment_kind": _("Name the attachment kind required.")})


class ProbabilityAdoption(models.Model):
    """An admin adopting the learned stage probabilities of a pipeline (the
    stage_probability report), recorded so that it can be reverted.

    ``changes`` holds one entry per stage changed: stage_id, key, old, new (decimal
    strings), sample, ci_low, ci_high. Reverting restores ``old`` and records who and when."""

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="adoptions"
    )
    adopted_by = models.ForeignKey(
        "people.User", verbose_name=_("adopted by"), on_delete=models.PROTECT, related_name="+"
    )
    adopted_at = models.DateTimeField(_("adopted at"))
    window_days = models.PositiveIntegerField(_("look-back window (days)"))
    changes = models.JSONField(_("changes"), default=list)
    reverted_by = models.ForeignKey(
        "people.User",
        verbose_name=_("reverted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reverted_at = models.DateTimeField(_("reverted at"), null=True, blank=True)

    class Meta:
        ordering = ["-adopted_at", "-id"]
        verbose_name = _("probability adoption")
        verbose_name_plural = _("probability adoptions")
        constraints = [
            models.CheckConstraint(
                condition=Q(reverted_at__isnull=True, reverted_by__isnull=True)
                | Q(reverted_at__isnull=False, reverted_by__isnull=False),
                name="pipelines_adoption_reverted_by_and_at",
            ),
            models.CheckConstraint(
                condition=Q(window_days__gte=1), name="pipelines_adoption_window_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline} @ {self.adopted_at:%Y-%m-%d %H:%M}"
