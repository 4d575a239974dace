"""Activity services: logging what happened on a deal."""

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from loudou.accounts.models import Contact
from loudou.core.errors import InvalidInput
from loudou.deals.models import Deal
from loudou.deals.services import require_can_act, resolve_time
from loudou.people.models import User

from .models import Activity, ActivityOutcome, ActivityType


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
