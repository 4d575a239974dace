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


class NextStepType(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")
    TASK = "task", _("Task")


# Completing a next step logs an activity of the same type; a task becomes a note.
ACTIVITY_TYPE_OF_STEP = {
    NextStepType.CALL: ActivityType.CALL,
    NextStepType.VISIT: ActivityType.VISIT,
    NextStepType.MEETING: ActivityType.MEETING,
    NextStepType.EMAIL: ActivityType.EMAIL,
    NextStepType.WECHAT: ActivityType.WECHAT,
    NextStepType.TASK: ActivityType.NOTE,
}


class NextStep(models.Model):
    """A follow-up scheduled on a deal (下一步): what to do, when, by whom.

    Open while ``done_at`` is empty. Completing it logs the ``activity`` (with the outcome
    and note) and sets ``done_at``; rescheduling changes ``due_at``. Unlike an activity, the
    due time may be in the future: that is the point."""

    deal = models.ForeignKey(
        "deals.Deal", verbose_name=_("deal"), on_delete=models.CASCADE, related_name="next_steps"
    )
    type = models.CharField(_("type"), max_length=10, choices=NextStepType.choices)
    due_at = models.DateTimeField(_("due"))
    note = models.TextField(_("note"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="next_steps",
        db_index=False,  # activities_step_assignee leads with assignee
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("scheduled by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("scheduled at"), auto_now_add=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    activity = models.OneToOneField(
        Activity,
        verbose_name=_("logged activity"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="next_step",
    )

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("next step")
        verbose_name_plural = _("next steps")
        indexes = [
            models.Index(fields=["assignee", "done_at", "due_at"], name="activities_step_assignee"),
            models.Index(fields=["deal", "done_at"], name="activities_step_deal"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=[t.value for t in NextStepType]),
                name="activities_step_type_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.done_at is None
