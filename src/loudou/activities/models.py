"""Activities: what reps and customers do (calls, visits, meetings, e-mail, WeChat, notes)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ActivityType(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")
    NOTE = "note", _("Note")


class ActivityOutcome(models.TextChoices):
    NONE = "", _("—")
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")
    NO_ANSWER = "no_answer", _("No answer")


class Activity(models.Model):
    """One activity on a deal, at a time, with an outcome."""

    deal = models.ForeignKey(
        "deals.Deal", verbose_name=_("deal"), on_delete=models.CASCADE, related_name="activities"
    )
    type = models.CharField(_("type"), max_length=10, choices=ActivityType.choices)
    at = models.DateTimeField(_("time"), db_index=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=ActivityOutcome.choices, blank=True, default=""
    )
    note = models.TextField(_("note"), blank=True)
    contact = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [models.Index(fields=["deal", "at"], name="activities_deal_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=[t.value for t in ActivityType]),
                name="activities_type_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.at:%Y-%m-%d}"
