"""The checks every deal service starts with: who may see and change a deal (the user's
``people.access.Scope``), when something happened, and the deal re-read under a lock."""

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loudou.core.errors import Conflict, InvalidInput, NotAllowed
from loudou.people.access import Scope
from loudou.people.models import User

from .models import Deal, StageEvent

# ---------------------------------------------------------------------------------------
# Visibility and permissions: people.access.Scope decides; these are its deal-side words.


def deals_visible_to(user: User) -> QuerySet[Deal]:
    """The deals ``user`` may see (``Scope``): the query every list and export starts from."""
    return Scope.of(user).filter(Deal.objects.all())


def can_act_on(user: User, deal: Deal) -> bool:
    """True if ``user`` may change ``deal`` (same rule as visibility)."""
    return Scope.of(user).can_act(deal)


def require_can_act(user: User, deal: Deal) -> None:
    if not Scope.of(user).can_act(deal):
        raise NotAllowed(_("You may only change your own deals (managers: their teams' deals)."))


# ---------------------------------------------------------------------------------------
# Helpers


def resolve_time(at: dt.datetime | None) -> dt.datetime:
    """When something happened: now by default; never naive, never in the future."""
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        raise InvalidInput({"at": _("The time must include a time zone.")})
    if at > now + dt.timedelta(minutes=5):
        raise InvalidInput({"at": _("The time cannot be in the future.")})
    return at


def lock_deal(deal: Deal | int, expected_version: int | None) -> Deal:
    """Re-read the deal under a row lock; refuse if the caller's version is stale."""
    pk = deal.pk if isinstance(deal, Deal) else deal
    try:
        locked = Deal.objects.select_for_update().select_related("stage", "pipeline").get(pk=pk)
    except Deal.DoesNotExist as exc:
        raise InvalidInput({"deal": _("This deal does not exist (any more).")}) from exc
    if expected_version is not None and locked.version != expected_version:
        raise Conflict()
    return locked


def last_event(deal: Deal) -> StageEvent | None:
    return StageEvent.objects.filter(deal=deal).order_by("-at", "-id").first()


def check_after_last_event(deal: Deal, at: dt.datetime) -> None:
    last = last_event(deal)
    if last is not None and at < last.at:
        raise InvalidInput(
            {"at": _("A stage change cannot be dated before the deal's previous stage change.")}
        )
