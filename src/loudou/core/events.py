"""Domain events: what happened to a deal, announced after the change commits.

The services (``deals.services``, ``activities.services``) call ``emit()``; apps on higher
floors (``notifications``: chat groups and webhooks) connect to ``deal_event`` without
the services knowing they exist. The signal is sent once the surrounding transaction
commits, robustly: a receiver that fails is logged and never fails or rolls back the
user's action, and nothing is announced for a change that was rolled back. Receivers
must stay cheap (they run in the user's request): they enqueue work, never send it.
"""

import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger("loudou.events")

# Sent with: event (str), deal_id (int), actor_id (int | None), data (dict).
deal_event = Signal()

EVENTS = (
    "deal.created",
    "deal.updated",
    "deal.stage_changed",
    "deal.won",
    "deal.lost",
    "approval.requested",
    "payment.recorded",
)


def _send(event: str, deal_id: int, actor_id: int | None, data: dict[str, Any]) -> None:
    for receiver, result in deal_event.send_robust(
        sender=None, event=event, deal_id=deal_id, actor_id=actor_id, data=data
    ):
        if isinstance(result, Exception):
            logger.error("Receiver %r failed on %s", receiver, event, exc_info=result)


def emit(event: str, *, deal_id: int, actor_id: int | None, **data: Any) -> None:
    """Announce ``event`` about a deal once the current transaction commits."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    transaction.on_commit(partial(_send, event, deal_id, actor_id, data), robust=True)
