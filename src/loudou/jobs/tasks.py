"""Housekeeping tasks of the queue itself."""

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult


@task()
def prune_finished_tasks(due: str | None = None) -> int:
    """Delete finished task results older than ``LOUDOU_TASK_RETENTION_DAYS``; return how
    many. (What users look at, such as webhook attempts, is kept in its own tables.)"""
    cutoff = timezone.now() - dt.timedelta(days=settings.LOUDOU_TASK_RETENTION_DAYS)
    deleted, _by_model = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted
