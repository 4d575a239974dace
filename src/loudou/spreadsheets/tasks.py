"""Background tasks of the import page (django-tasks; run by `loudou worker`)."""

from django_tasks import task

from . import jobs
from .models import ImportJob


@task()
def check_import(job_id: int) -> None:
    """Check an uploaded file: every row, nothing written, no write lock taken."""
    job = ImportJob.objects.select_related("user", "pipeline").filter(pk=job_id).first()
    if job is None:
        return  # cleaned up meanwhile
    try:
        jobs.check(job)
    except Exception as error:
        jobs.fail(job_id, error)
        raise


@task()
def run_import(job_id: int) -> None:
    """Import a checked file, all or nothing."""
    job = ImportJob.objects.select_related("user", "pipeline").filter(pk=job_id).first()
    if job is None:
        return
    try:
        jobs.run(job)
    except Exception as error:
        jobs.fail(job_id, error)
        raise


@task()
def clean_imports(due: str | None = None) -> int:
    """Remove old uploads, errors files and finished jobs (scheduled hourly)."""
    return jobs.clean_old()
