"""Core's background tasks (django-tasks; run by `loudou worker`)."""

from django.conf import settings
from django.db import connection, transaction
from django_tasks import task

from .db import prune_changes


@task()
def prune_change_records(due: str | None = None) -> int:
    """Delete change records older than LOUDOU_CHANGES_KEEP_HOURS (scheduled hourly)."""
    with transaction.atomic():
        return prune_changes(connection, settings.LOUDOU_CHANGES_KEEP_HOURS)
