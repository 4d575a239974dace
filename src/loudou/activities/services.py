"""Activity services: logging what happened on a deal, and the next steps scheduled on it."""

import datetime as dt

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loudou.accounts.models import Contact
from loudou.core.errors import InvalidInput
from loudou.deals.models import Deal, DealStatus
from loudou.deals.services import require_can_act, resolve_time
from loudou.limits import FIRST_DATE, LAST_DATE
from loudou.people.access import Scope
from loudou.people.models import User

from .models import (
    ACTIVITY_TYPE_OF_STEP,
    Activity,
    ActivityOutcome,
    ActivityType,
    NextStep,
    NextStepType,
)


@transaction.atomic
def log_activity(
    *,
    actor: User,
    deal: Deal,
    type: str,
    at: dt.datetime | None = None,
    outcome: str = "",
    note: str = "",
    contact: Contact | None = None,
) -> Activity:
    """Record an activity (call, visit, meeting, e-mail, WeChat, note) on a deal."""
    at = resolve_time(at)
    require_can_act(actor, deal)
    if type not in ActivityType.values:
        raise InvalidInput({"type": _("Not an activity type.")})
    if outcome not in ActivityOutcome.values:
        raise InvalidInput({"outcome": _("Not an activity outcome.")})
    if contact is not None and contact.account_id != deal.account_id:
        raise InvalidInput({"contact": _("The contact must belong to the deal's account.")})
    # The deal row first, as stage changes take it: inserting the activity would take a
    # shared lock on it and the update below then an exclusive one, an upgrade that can
    # deadlock with a move of the same deal waiting in between.
    Deal.objects.select_for_update().filter(pk=deal.pk).values_list("pk").first()
    activity = Activity.objects.create(
        deal=deal, type=type, at=at, outcome=outcome, note=note.strip(), contact=contact, by=actor
    )
    # Not a field edit: no version bump, so logging a call never conflicts with an edit.
    Deal.objects.filter(pk=deal.pk).filter(
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at)
    ).update(last_activity_at=at)
    return activity


# ---------------------------------------------------------------------------------------
# Next steps (follow-ups)


def _due(due_at: dt.datetime | None) -> dt.datetime:
    """A due time: given, with a time zone, within the dates users may enter. Future times
    are the point of a next step (a logged activity's may not be in the future)."""
    if due_at is None:
        raise InvalidInput({"due_at": _("Give the date and time it is due.")})
    if timezone.is_naive(due_at):
        raise InvalidInput({"due_at": _("The time must include a time zone.")})
    if not FIRST_DATE <= timezone.localdate(due_at) <= LAST_DATE:
        raise InvalidInput({"due_at": _("Use a date from 1900 to 2199.")})
    return due_at


def _check_assignee(deal: Deal, assignee: User) -> None:
    # The assignee works on the deal: they must be allowed to (the same Scope rule).
    if not assignee.is_active or not Scope.of(assignee).can_act(deal):
        raise InvalidInput({"assignee": _("The assignee must be able to work on this deal.")})


def _open_step(step: NextStep | int) -> NextStep:
    """The step re-read under a row lock, with its deal; refuses a completed one."""
    pk = step.pk if isinstance(step, NextStep) else step
    steps = NextStep.objects.select_for_update().select_related("deal", "assignee")
    locked = steps.filter(pk=pk).first()
    if locked is None:
        raise InvalidInput({"step": _("This next step does not exist (any more).")})
    if locked.done_at is not None:
        raise InvalidInput({"step": _("This next step is already done.")})
    return locked


@transaction.atomic
def schedule_next_step(
    *,
    actor: User,
    deal: Deal,
    type: str,
    due_at: dt.datetime | None,
    note: str = "",
    assignee: User | None = None,
) -> NextStep:
    """Schedule a follow-up on an open deal, for its owner unless ``assignee`` is given."""
    require_can_act(actor, deal)
    if deal.status != DealStatus.OPEN:
        raise InvalidInput({"deal": _("Next steps are scheduled on open deals only.")})
    if type not in NextStepType.values:
        raise InvalidInput({"type": _("Not a next-step type.")})
    due_at = _due(due_at)
    assignee = assignee or deal.owner
    _check_assignee(deal, assignee)
    return NextStep.objects.create(
        deal=deal,
        type=type,
        due_at=due_at,
        note=note.strip(),
        assignee=assignee,
        created_by=actor,
    )


@transaction.atomic
def complete_next_step(
    *,
    actor: User,
    step: NextStep | int,
    outcome: str = "",
    note: str = "",
    at: dt.datetime | None = None,
) -> Activity:
    """Mark a next step done and log what happened as an activity (its type; a task is
    logged as a note), with ``outcome`` and ``note``, in one action."""
    locked = _open_step(step)
    require_can_act(actor, locked.deal)
    text = "\n".join(part for part in (locked.note.strip(), note.strip()) if part)
    activity = log_activity(
        actor=actor,
        deal=locked.deal,
        type=ACTIVITY_TYPE_OF_STEP[NextStepType(locked.type)],
        at=at,
        outcome=outcome,
        note=text,
    )
    locked.done_at = activity.at
    locked.activity = activity
    locked.save(update_fields=["done_at", "activity"])
    if isinstance(step, NextStep):
        step.refresh_from_db()
    return activity


@transaction.atomic
def reschedule_next_step(
    *,
    actor: User,
    step: NextStep | int,
    due_at: dt.datetime | None,
    note: str | None = None,
) -> NextStep:
    """Move an open next step to another time (and, if given, change its note)."""
    locked = _open_step(step)
    require_can_act(actor, locked.deal)
    locked.due_at = _due(due_at)
    fields = ["due_at"]
    if note is not None:
        locked.note = note.strip()
        fields.append("note")
    locked.save(update_fields=fields)
    if isinstance(step, NextStep):
        step.refresh_from_db()
    return locked


@transaction.atomic
def cancel_next_step(*, actor: User, step: NextStep | int) -> None:
    """Drop an open next step that will not happen (a done one stays: it is history)."""
    locked = _open_step(step)
    require_can_act(actor, locked.deal)
    locked.delete()


def next_steps_visible_to(user: User) -> QuerySet[NextStep]:
    """Open next steps on the deals ``user`` may see (``Scope``)."""
    scope = Scope.of(user)
    if scope.nothing:
        return NextStep.objects.none()
    deals = scope.filter(Deal.objects.all()).values("pk")
    return NextStep.objects.filter(done_at__isnull=True, deal__in=deals)
