"""What the scheduler remembers between ticks: when each schedule is next due."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduleState(models.Model):
    """One row per schedule (``jobs.schedules.Schedule``): the next instant it is due and
    what happened the last time it came due.

    Workers take a due schedule with a compare-and-set on ``next_due_at``, so that a run is
    enqueued once however many workers tick at the same moment."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    cron = models.CharField(_("cron expression"), max_length=100)
    next_due_at = models.DateTimeField(_("next due at"))
    last_due_at = models.DateTimeField(_("last due at"), null=True, blank=True)
    last_enqueued_at = models.DateTimeField(_("last enqueued at"), null=True, blank=True)
    last_task_id = models.CharField(_("last task"), max_length=64, blank=True)
    last_skipped = models.BooleanField(
        _("last run skipped"),
        default=False,
        help_text=_("The last due run was too late (the worker was not running) and skipped."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")

    def __str__(self) -> str:
        return f"{self.name} ({self.cron})"
