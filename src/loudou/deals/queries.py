"""Read-side helpers for lists and pages (no writes here)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import DateTimeField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from loudou.activities.models import NextStep

from .models import Deal


def with_last_touch(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    """Annotate ``last_touch``: the latest of a stage change, a field edit, an activity
    (METRICS.md, *Update discipline*)."""
    return deals.annotate(
        last_touch=Greatest(
            "stage_entered_at",
            "updated_at",
            Coalesce("last_activity_at", "stage_entered_at", output_field=DateTimeField()),
        ),
    )


def is_stale(deal: Deal, now: dt.datetime | None = None) -> bool:
    """Open and untouched for longer than its stage's rot days (needs ``with_last_touch``)."""
    if deal.status != "open":
        return False
    now = now or timezone.now()
    return now - deal.last_touch > dt.timedelta(days=deal.stage.rot_days)


def days_since(moment: dt.datetime, now: dt.datetime | None = None) -> int:
    return max(0, ((now or timezone.now()) - moment).days)


@dataclass(frozen=True)
class StepDue:
    """How a next step stands: days overdue (calendar days in the organisation's zone),
    whether its time has passed, and the words Today, the deal page and the board's badge
    colour agree on ("" for a step due after today)."""

    days_overdue: int
    late: bool
    words: str


def step_due(due_at: dt.datetime, now: dt.datetime | None = None) -> StepDue:
    now = now or timezone.now()
    overdue = (timezone.localdate(now) - timezone.localdate(due_at)).days
    if overdue > 0:
        words = ngettext("overdue by %(n)d day", "overdue by %(n)d days", overdue) % {"n": overdue}
    elif overdue == 0:
        words = _("due today at %(time)s") % {"time": timezone.localtime(due_at).strftime("%H:%M")}
    else:
        words = ""
    return StepDue(overdue, due_at < now, words)


def with_next_step(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    """Annotate ``next_step_due``: when the deal's earliest open next step is due (None: an
    open deal with nothing scheduled, which pages flag)."""
    first_open = (
        NextStep.objects.filter(deal=OuterRef("pk"), done_at__isnull=True)
        .order_by("due_at")
        .values("due_at")[:1]
    )
    return deals.annotate(next_step_due=Subquery(first_open, output_field=DateTimeField()))


def needs_next_step(deal: Deal) -> bool:
    """An open deal with no next step scheduled (needs ``with_next_step``)."""
    return deal.status == "open" and deal.next_step_due is None
