"""The receiver of ``core.events.deal_event``: queue one dispatch task per event when
something listens. It runs after the user's transaction commits and never raises into
it (``core.events`` sends robustly; a failure to enqueue is logged by ``jobs.queue``)."""

from typing import Any

from django.utils import timezone

from loudou.core.events import deal_event
from loudou.jobs.queue import enqueue_on_commit


def on_deal_event(
    sender: Any, *, event: str, deal_id: int, actor_id: int | None, data: dict, **kwargs: Any
) -> None:
    from .dispatch import listening
    from .tasks import dispatch_event

    if listening(event):
        enqueue_on_commit(
            dispatch_event,
            event=event,
            deal_id=deal_id,
            actor_id=actor_id,
            data=data,
            at=timezone.now().isoformat(),
        )


def connect() -> None:
    deal_event.connect(on_deal_event, dispatch_uid="loudou.notifications")
