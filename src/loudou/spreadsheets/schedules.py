"""The import page's housekeeping, run by the worker's schedule."""

from loudou.jobs.schedules import Schedule, register

from .tasks import clean_imports

register(
    Schedule(
        name="spreadsheets.clean_imports",
        cron="17 * * * *",  # hourly: an upload is kept LOUDOU_IMPORT_KEEP_HOURS, not much more
        task=clean_imports,
        description="Remove import uploads, errors and progress files older than a day",
    )
)
