"""Putting work on the queue from a use case.

``enqueue_on_commit`` enqueues after the surrounding transaction commits: nothing is
enqueued for a change that is rolled back, and the worker never starts on a row the
request has not committed yet. A failure to enqueue is logged, never raised: background
work must not fail the user's action that caused it.
"""

import logging
from functools import partial
from typing import Any

from django.db import transaction

logger = logging.getLogger("loudou.jobs")


def _enqueue(task: Any, args: tuple, kwargs: dict) -> None:
    try:
        task.enqueue(*args, **kwargs)
    except Exception:
        logger.exception("Could not enqueue %s", getattr(task, "module_path", task))


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Enqueue ``task(*args, **kwargs)`` once the current transaction commits (at once
    when there is none)."""
    transaction.on_commit(partial(_enqueue, task, args, kwargs), robust=True)
