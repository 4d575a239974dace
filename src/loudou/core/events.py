"""Domain events: what happened, announced after the transaction commits.

Services call ``emit("deal.won", deal_id=…)`` inside their transaction; once it commits,
every subscribed handler is called with the event's name and data (ids, not objects: a
handler reads what it needs). Nothing is announced for a change that is rolled back, and a
handler that fails is logged, never raised: listeners (webhooks, chat notifications) must
not fail or slow the action that caused the event. Handlers subscribe from their app's
``ready()``; this module imports nothing of theirs (floor 3)."""

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction

logger = logging.getLogger("loudou.events")

# Every event a listener may receive, and the data it carries (ids; listeners read the rest):
# - deal.created, deal.updated (+ fields: the names changed): deal_id, actor_id
# - deal.stage_changed, deal.won, deal.lost: deal_id, actor_id, event_id (the StageEvent)
# - approval.requested: deal_id, actor_id, and optionally note (the request's words) and
#   approval (a dict passed through to webhooks as it is)
# - payment.recorded: deal_id, actor_id, payment_id
EVENTS = (
    "deal.created",
    "deal.updated",
    "deal.stage_changed",
    "deal.won",
    "deal.lost",
    "approval.requested",
    "payment.recorded",
)

Handler = Callable[[str, dict[str, Any]], None]
_handlers: list[Handler] = []


def subscribe(handler: Handler) -> None:
    """Call ``handler(name, data)`` for every event from now on (once per handler)."""
    if handler not in _handlers:
        _handlers.append(handler)


def unsubscribe(handler: Handler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def _deliver(name: str, data: dict[str, Any]) -> None:
    for handler in list(_handlers):
        try:
            handler(name, data)
        except Exception:
            logger.exception("Event handler %r failed on %s", handler, name)


def emit(name: str, **data: Any) -> None:
    """Announce ``name`` with ``data`` once the current transaction commits (at once
    outside one)."""
    if name not in EVENTS:
        raise ValueError(f"unknown event {name!r}")
    transaction.on_commit(partial(_deliver, name, data), robust=True)
