"""Scheduled messages: the daily digest and the weekly diagnosis of every team."""

from django_tasks import task

from loudou.people.models import Team

from .models import MessageKind
from .services import channels_for, send_now


@task()
def send_digests(due: str | None = None) -> int:
    return sum(
        len(send_now(t, MessageKind.DIGEST))
        for t in Team.objects.all()
        if channels_for(t, MessageKind.DIGEST)
    )


@task()
def send_weekly(due: str | None = None) -> int:
    return sum(
        len(send_now(t, MessageKind.WEEKLY))
        for t in Team.objects.all()
        if channels_for(t, MessageKind.WEEKLY)
    )
