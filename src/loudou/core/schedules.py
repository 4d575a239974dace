"""Core's housekeeping, run by the worker's schedule."""

from loudou.jobs.schedules import Schedule, register

from .tasks import prune_change_records

register(
    Schedule(
        name="core.prune_change_records",
        cron="41 * * * *",
        task=prune_change_records,
        description="Delete change records older than LOUDOU_CHANGES_KEEP_HOURS",
    )
)
