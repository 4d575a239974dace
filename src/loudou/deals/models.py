"""Deals (商机), their append-only stage-change log, attachments, approvals and payments."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from loudou.limits import MAX_AMOUNT
from loudou.pipelines.models import ForecastCategory, localized


class DealStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class LostReason(models.Model):
    """Why deals are lost (输单原因); chosen from a list so they can be counted."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    name_zh = models.CharField(_("name (zh-Hans)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self.name_zh, self.name_en)


class Deal(models.Model):
    """One sales opportunity. Change it only through ``loudou.deals.services``.

    ``stage`` is the current stage; for closed deals it is the pipeline's Won or Lost
    stage, and the stage it was closed from is the ``from_stage`` of its last event.
    ``version`` increases with every change (optimistic locking).
    """

    name = models.CharField(_("name"), max_length=200)
    external_id = models.CharField(
        _("external ID"), max_length=100, null=True, blank=True, unique=True
    )
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deals",
    )
    contact = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("primary contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_deals",
        db_index=False,  # deals_owner_status leads with owner
    )
    team = models.ForeignKey(
        "people.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deals",
        db_index=False,  # deals_team_status leads with team
    )
    pipeline = models.ForeignKey(
        "pipelines.Pipeline",
        verbose_name=_("pipeline"),
        on_delete=models.PROTECT,
        db_index=False,  # deals_pipeline_stage leads with pipeline
    )
    stage = models.ForeignKey(
        "pipelines.Stage", verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+"
    )
    stage_entered_at = models.DateTimeField(_("entered stage at"))
    status = models.CharField(
        _("status"), max_length=4, choices=DealStatus.choices, default=DealStatus.OPEN
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_AMOUNT)],
    )
    currency = models.CharField(_("currency"), max_length=3)
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    lost_reason = models.ForeignKey(
        LostReason,
        verbose_name=_("lost reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deals",
    )
    lost_note = models.TextField(_("lost note"), blank=True)
    source = models.CharField(_("source"), max_length=50, blank=True)
    forecast_category = models.CharField(
        _("forecast category (override)"),
        max_length=10,
        choices=ForecastCategory.choices,
        blank=True,
        help_text=_("Leave empty to use the stage's default."),
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("fields updated at"))
    # Kept by log_activity so "last touch" needs no scan of every activity.
    last_activity_at = models.DateTimeField(_("last activity at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            models.Index(fields=["owner", "status"], name="deals_owner_status"),
            models.Index(fields=["team", "status"], name="deals_team_status"),
            models.Index(fields=["pipeline", "stage"], name="deals_pipeline_stage"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "won", "lost"]), name="deals_deal_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="deals_deal_amount_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__lte=MAX_AMOUNT),
                name="deals_deal_amount_lte_max",
            ),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(closed_at__isnull=True))
                | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="deals_deal_closed_at_iff_closed",
            ),
            models.CheckConstraint(
                condition=Q(lost_reason__isnull=True) | Q(status="lost"),
                name="deals_deal_lost_reason_only_lost",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("created_at")),
                name="deals_deal_closed_after_created",
            ),
            models.CheckConstraint(
                condition=Q(stage_entered_at__gte=F("created_at")),
                name="deals_deal_stage_entered_after_created",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="deals_deal_version_gte_1"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_forecast_category(self) -> str:
        if self.status == DealStatus.WON:
            return ForecastCategory.CLOSED
        if self.status == DealStatus.LOST:
            return ForecastCategory.OMITTED
        return self.forecast_category or self.stage.forecast_category

    @property
    def effective_forecast_category_label(self) -> str:
        return str(ForecastCategory(self.effective_forecast_category).label)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.amount is not None and self.amount < 0:
            errors["amount"] = _("The amount cannot be negative.")
        if self.status == DealStatus.OPEN and self.closed_at is not None:
            errors["closed_at"] = _("An open deal has no close time.")
        if self.status != DealStatus.OPEN and self.closed_at is None:
            errors["closed_at"] = _("A closed deal needs a close time.")
        if self.lost_reason_id and self.status != DealStatus.LOST:
            errors["lost_reason"] = _("Only lost deals have a lost reason.")
        if self.stage_id and self.pipeline_id and self.stage.pipeline_id != self.pipeline_id:
            errors["stage"] = _("The stage belongs to another pipeline.")
        if (
            self.stage_id
            and self.stage.kind != self.status
            and not (self.stage.kind == "open" and self.status == DealStatus.OPEN)
        ):
            errors["status"] = _("The status does not match the stage.")
        if errors:
            raise ValidationError(errors)


class AppendOnlyQuerySet(models.QuerySet):
    """Stage events are never edited or deleted in normal use; corrections are new events."""

    def update(self, **kwargs: object) -> int:
        raise TypeError("Stage events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Stage events are append-only.")


class StageEvent(models.Model):
    """An append-only stage change ``(deal, from_stage, to_stage, at, by)``.

    Creation has ``from_stage = null``; winning and losing go into the Won / Lost stage;
    reopening goes from Won / Lost back to an open stage. An override of unmet exit
    criteria records ``override_reason`` and the criteria it overrode; an import marks its
    events ``imported``.
    """

    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # deals_event_deal_at leads with deal
    )
    from_stage = models.ForeignKey(
        "pipelines.Stage",
        verbose_name=_("from stage"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to_stage = models.ForeignKey(
        "pipelines.Stage", verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    override_reason = models.TextField(_("override reason"), blank=True)
    overridden = models.JSONField(_("overridden criteria"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True)
    # History brought in from another system by an import: neither a rep's move nor a
    # forced one (METRICS.md). Reports and the deal page tell these apart.
    imported = models.BooleanField(_("imported"), default=False, db_default=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["deal_id", "at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [
            models.Index(fields=["deal", "at"], name="deals_event_deal_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(from_stage__isnull=True) | ~Q(from_stage=F("to_stage")),
                name="deals_event_moves",
            ),
            models.CheckConstraint(
                condition=Q(override_reason="") | ~Q(overridden=[]),
                name="deals_event_override_has_criteria",
            ),
            models.CheckConstraint(
                condition=Q(imported=False) | Q(override_reason=""),
                name="deals_event_imported_not_forced",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id} @ {self.at:%Y-%m-%d}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("Stage events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("Stage events are append-only.")

    @property
    def is_override(self) -> bool:
        return bool(self.override_reason)


class AttachmentKind(models.TextChoices):
    QUOTE = "quote", _("Quote")
    PROPOSAL = "proposal", _("Proposal")
    CONTRACT = "contract", _("Contract")
    OTHER = "other", _("Other")


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{instance.deal_id}/{filename}"


class Attachment(models.Model):
    """An uploaded file on a deal, with a kind (quote, contract, ...)."""

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AttachmentKind.choices)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class StageApproval(models.Model):
    """A manager's approval for a deal to leave ``stage`` (valid for the current stay)."""

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="approvals"
    )
    stage = models.ForeignKey(
        "pipelines.Stage", verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.PROTECT
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("stage approval")
        verbose_name_plural = _("stage approvals")

    def __str__(self) -> str:
        return f"{self.deal} / {self.stage} by {self.approved_by}"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ApprovalRequest(models.Model):
    """A rep's request that a manager approve the deal leaving ``stage`` (the "manager
    approval" exit criterion), and the decision: who, when, with what note. Approving
    creates the ``StageApproval`` the criterion counts."""

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="approval_requests"
    )
    stage = models.ForeignKey(
        "pipelines.Stage", verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=ApprovalStatus.choices,
        default=ApprovalStatus.PENDING,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    approval = models.OneToOneField(
        StageApproval,
        verbose_name=_("approval"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="request",
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected"]),
                name="deals_approvalrequest_status_valid",
            ),
            models.CheckConstraint(
                condition=(Q(status="pending") & Q(decided_at__isnull=True))
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="deals_approvalrequest_decided_iff_not_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deal} / {self.stage}: {self.status}"


class Payment(models.Model):
    """A payment collected (回款) against a won deal."""

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=16,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_AMOUNT)],
    )
    paid_on = models.DateField(_("paid on"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["paid_on", "id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="deals_payment_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(amount__lte=MAX_AMOUNT), name="deals_payment_amount_lte_max"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} @ {self.paid_on}"
