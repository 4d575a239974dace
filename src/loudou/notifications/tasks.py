"""Background tasks of notifications and webhooks (django-tasks; run by `loudou worker`)."""

import datetime as dt
import logging

from django.utils import timezone
from django_tasks import task

from loudou.people.models import Team

from . import delivery, dispatch, messages
from .models import Channel, MessageKind

logger = logging.getLogger("loudou.notifications")


@task()
def deliver(delivery_id: int) -> str:
    """Send one delivery (an attempt; failures plan their own retry)."""
    sent = delivery.attempt(delivery_id)
    return sent.status if sent else "gone"


@task()
def dispatch_event(
    event: str, deal_id: int, actor_id: int | None, data: dict, at: str | None = None
) -> None:
    """Turn a deal event into webhook deliveries and chat messages."""
    dispatch.dispatch(event, deal_id, actor_id, data, dt.datetime.fromisoformat(at) if at else None)


BUILDERS = {MessageKind.DIGEST: messages.digest, MessageKind.WEEKLY: messages.weekly}


def queue_for_teams(kind: str, now: dt.datetime, team: Team | None = None) -> int:
    """Queue ``kind`` (digest or weekly) to every active channel taking it, one message
    per team and language; how many deliveries."""
    flag = {"digest": "send_digest", "weekly": "send_weekly"}[kind]
    channels = Channel.objects.filter(active=True, **{flag: True}).select_related("team")
    if team is not None:
        channels = channels.filter(team=team)
    built: dict[tuple[int, str], messages.Message] = {}
    count = 0
    for channel in channels:
        key = (channel.team_id, channel.language)
        if key not in built:
            built[key] = BUILDERS[kind](channel.team, channel.language, now)
        delivery.queue(kind=kind, message=_copy(built[key]), channel=channel, enqueue="now")
        count += 1
    return count


def _copy(message: messages.Message) -> messages.Message:
    """A copy a platform may trim without trimming the others' (fit() drops lines)."""
    import copy

    return copy.deepcopy(message)


@task()
def send_digests(due: str | None = None) -> int:
    """The daily digest to every team's channels (scheduled)."""
    return queue_for_teams(MessageKind.DIGEST, _moment(due))


@task()
def send_weekly(due: str | None = None) -> int:
    """The weekly diagnosis to every team's channels (scheduled)."""
    return queue_for_teams(MessageKind.WEEKLY, _moment(due))


def _moment(due: str | None) -> dt.datetime:
    return dt.datetime.fromisoformat(due) if due else timezone.now()


@task()
def prune_deliveries(due: str | None = None) -> int:
    """Delete finished deliveries older than LOUDOU_NOTIFY_KEEP_DAYS (scheduled daily)."""
    return delivery.prune()
