"""The listener of ``core.events``: queue one dispatch task per event when something
listens. It runs after the user's transaction commits and never raises into it
(``core.events`` logs a failing handler; ``jobs.queue`` logs a failure to enqueue)."""

from typing import Any

from django.utils import timezone

from loudou.core import events
from loudou.jobs.queue import enqueue_on_commit


def on_event(name: str, data: dict[str, Any]) -> None:
    from .dispatch import listening
    from .tasks import dispatch_event

    if not data.get("deal_id") or not listening(name):
        return
    enqueue_on_commit(
        dispatch_event,
        event=name,
        deal_id=data["deal_id"],
        actor_id=data.get("actor_id"),
        data={k: v for k, v in data.items() if k not in ("deal_id", "actor_id")},
        at=timezone.now().isoformat(),
    )


def connect() -> None:
    events.subscribe(on_event)
