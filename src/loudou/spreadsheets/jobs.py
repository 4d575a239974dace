"""Web imports as background jobs: upload, check (a dry run, which takes no write lock),
confirm, import; their progress; and the clean-up of old files.

The web request only stores the upload and enqueues a task (``spreadsheets.tasks``); the
worker checks or imports and records the outcome on the ``ImportJob``. Progress goes to a
small JSON file beside the upload rather than the database: on SQLite the import's own
transaction holds the write lock, so nothing else could write progress rows meanwhile.
"""

import datetime as dt
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loudou.core.errors import InvalidInput, NotAllowed
from loudou.jobs.queue import enqueue_on_commit
from loudou.people.access import Scope
from loudou.people.models import User
from loudou.pipelines.models import CustomField, Pipeline

from .columns import Mapping, custom_field_index, field_for, field_label
from .models import ImportJob, JobState
from .reader import FileError, read_table
from .results import ImportFailed, ImportSummary, write_errors

SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".tsv", ".txt")
VENDOR_SUFFIXES = (".zip", ".csv", ".xlsx", ".xls")
PREVIEW_ROWS = 10
KEPT_ERRORS = 100  # shown on the page; every error is in the errors file
JOBS_KEPT_DAYS = 7
# The problems file is written in each language: whoever downloads it reads the page's.
ERROR_LANGUAGES = ("zh-hans", "en")


def storage() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_of(user: User, token: str) -> ImportJob | None:
    """The user's own job with this token (None for anyone else's: it does not exist)."""
    return ImportJob.objects.filter(token=token, user=user).select_related("pipeline").first()


def start(
    *,
    actor: User,
    upload: IO[bytes],
    name: str,
    size: int,
    pipeline: Pipeline | None,
    create_owners: bool,
    lang: str = "zh-hans",
    vendor: str = "",
) -> ImportJob:
    """Store an upload and enqueue its check. Managers and admins only; a file over
    ``LOUDOU_IMPORT_MAX_UPLOAD_BYTES`` or of another type is refused. ``vendor``: a
    migration from that CRM's export (a zip of it, or its deals file)."""
    if not Scope.of(actor).may_override:
        raise NotAllowed(_("Only managers and administrators can import."))
    suffix = Path(name).suffix.lower()
    if vendor and suffix not in VENDOR_SUFFIXES:
        raise InvalidInput({"file": _("Upload the export as a .zip (or its .csv or .xlsx).")})
    if not vendor and suffix not in SUFFIXES:
        raise InvalidInput({"file": _("Upload a .csv or .xlsx file.")})
    limit = settings.LOUDOU_IMPORT_MAX_UPLOAD_BYTES
    if size > limit:
        raise InvalidInput(
            {"file": _("The file is too large: at most %(mb)d MB.") % {"mb": limit // 2**20}}
        )
    clean_old()
    job = ImportJob(
        user=actor,
        name=Path(name).name[:200],
        size=size,
        pipeline=pipeline,
        create_owners=create_owners and Scope.of(actor).everything,
        vendor=vendor,
        lang="en" if lang.lower().startswith("en") else "zh-hans",
    )
    path = storage() / f"{job.token}{suffix}"
    with open(path, "wb") as handle:
        copied = _copy(upload, handle, limit)
    if copied > limit:  # the stated size was wrong: never trust it
        path.unlink(missing_ok=True)
        raise InvalidInput(
            {"file": _("The file is too large: at most %(mb)d MB.") % {"mb": limit // 2**20}}
        )
    job.path, job.size = str(path), copied
    with transaction.atomic():
        job.save()
        _enqueue("check", job.pk)
    return job


def _copy(source: IO[bytes], target: IO[bytes], limit: int) -> int:
    copied = 0
    while chunk := source.read(1 << 20):
        copied += len(chunk)
        if copied > limit:
            return copied
        target.write(chunk)
    return copied


def confirm(*, actor: User, job: ImportJob) -> ImportJob:
    """Enqueue the import of a job whose check found nothing wrong."""
    if job.user_id != actor.pk:
        raise NotAllowed(_("This import is someone else's."))
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, state=JobState.CHECKED).update(
            state=JobState.IMPORTING
        )
        if not updated or not job.can_confirm:
            raise InvalidInput({"file": _("This import cannot be started (any more).")})
        _enqueue("import", job.pk)
    job.refresh_from_db()
    _write_progress(job, 0, 0.0)
    return job


def set_options(*, actor: User, job: ImportJob, options: dict[str, Any]) -> ImportJob:
    """Save the choices made on a migration's preview (stage mapping or mirror, fixes,
    ignored columns) and check again with them."""
    if job.user_id != actor.pk:
        raise NotAllowed(_("This import is someone else's."))
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, state=JobState.CHECKED, vendor__gt="").update(
            options=options, state=JobState.CHECKING
        )
        if not updated:
            raise InvalidInput({"file": _("This import cannot be changed (any more).")})
        _enqueue("check", job.pk)
    job.refresh_from_db()
    _write_progress(job, 0, 0.0)
    return job


def _enqueue(kind: str, job_id: int) -> None:
    """Queue the job's check or import once the request's transaction commits."""
    from . import tasks  # the task module imports this one

    enqueue_on_commit(tasks.check_import if kind == "check" else tasks.run_import, job_id)


# ---------------------------------------------------------------------------------------
# Progress


def _progress_path(job: ImportJob) -> Path:
    return Path(f"{job.path}.progress")


def _write_progress(job: ImportJob, rows: int, done: float) -> None:
    """Atomically (write, then rename): readers never see half a file."""
    path = _progress_path(job)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"rows": rows, "done": round(done, 4)}))
    os.replace(temporary, path)


def progress(job: ImportJob) -> dict[str, Any]:
    """How far the running check or import is: rows read and the share of the file."""
    try:
        return json.loads(_progress_path(job).read_text())
    except (OSError, ValueError):
        return {"rows": 0, "done": 0.0}


def _reporter(job: ImportJob) -> Callable[[int, float], None]:
    last = [0.0]

    def report(rows: int, done: float) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5:  # twice a second is plenty for a progress bar
            last[0] = now
            _write_progress(job, rows, done)

    return report


# ---------------------------------------------------------------------------------------
# The work (run by the tasks)


def _run(job: ImportJob, *, dry_run: bool) -> ImportSummary:
    from .services import import_deals

    if job.vendor:
        from .vendors import web

        return web.run(job, dry_run=dry_run, progress=_reporter(job))
    return import_deals(
        path=Path(job.path),
        actor=job.user,
        lang=job.lang,
        dry_run=dry_run,
        create_owners=job.create_owners,
        pipeline=job.pipeline.key if job.pipeline else None,
        progress=_reporter(job),
        via="web",
    )


def _record(job: ImportJob, summary: ImportSummary) -> None:
    job.summary = {
        "rows": summary.rows,
        "created": summary.created,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "events_added": summary.events_added,
        "accounts_created": summary.accounts_created,
        "owners_created": summary.owners_created,
        "teams_created": summary.teams_created,
        "ignored_columns": summary.ignored_columns,
    }
    job.error_count = len(summary.errors)
    job.errors = [
        [e.row, e.column, e.value[:200], e.zh, e.en] for e in summary.errors[:KEPT_ERRORS]
    ]
    column = None
    if job.vendor and hasattr(summary, "columns"):
        from .vendors.migrate import columns_of

        column = columns_of(summary)
    for lang in ERROR_LANGUAGES:
        path = errors_path(job, lang)
        if summary.errors:
            write_errors(summary.errors, path, lang, column)
        else:
            path.unlink(missing_ok=True)


def errors_path(job: ImportJob, lang: str) -> Path:
    """The job's problems as a CSV in ``lang`` (zh-Hans, else English)."""
    suffix = "zh-hans" if lang.lower().startswith("zh") else "en"
    return Path(f"{job.path}.errors.{suffix}.csv")


def check(job: ImportJob) -> None:
    """Read the file's columns and first rows, then check every row (no writes)."""
    job.preview, job.problem = {}, {}
    if job.vendor:
        _check_migration(job)
        return
    try:
        table = read_table(Path(job.path))
        mapping = Mapping()
        fields = list(CustomField.objects.all())
        custom, names = custom_field_index(fields), {f.key: (f.name_zh, f.name_en) for f in fields}
        detected = []
        for header in table.header:
            field = field_for(header, mapping, custom=custom)
            detected.append(
                [header, field_label(field, "zh", names), field_label(field, "en", names)]
                if field
                else [header, None, None]
            )
        rows = []
        for _number, row in table.rows:
            rows.append([str(cell)[:200] for cell in row])
            if len(rows) >= PREVIEW_ROWS:
                break
        job.preview = {"header": [str(h) for h in table.header], "rows": rows, "columns": detected}
        summary = _run(job, dry_run=True)
    except ImportFailed as failed:
        summary = failed.summary
    except FileError as exc:
        summary = ImportSummary(dry_run=True)
        job.problem = {"zh": exc.zh, "en": exc.en}
    _record(job, summary)
    job.state = JobState.CHECKED
    job.save()


def _check_migration(job: ImportJob) -> None:
    """A migration's check: its preview (stages, owners, columns) even when it fails."""
    from .vendors import web

    try:
        summary = _run(job, dry_run=True)
    except ImportFailed as failed:
        summary = failed.summary
    except FileError as exc:
        summary = ImportSummary(dry_run=True)
        job.problem = {"zh": exc.zh, "en": exc.en}
    if hasattr(summary, "stages"):
        job.preview = {"migration": web.preview(summary)}
    _record(job, summary)
    job.state = JobState.CHECKED
    job.save()


def run(job: ImportJob) -> None:
    """Import a checked file, all or nothing. If the data changed since the check and a
    row is refused now, the job goes back to 'checked' with the new errors."""
    try:
        summary = _run(job, dry_run=False)
    except ImportFailed as failed:
        _record(job, failed.summary)
        job.state = JobState.CHECKED
    except FileError as exc:
        job.problem = {"zh": exc.zh, "en": exc.en}
        job.state = JobState.CHECKED
    else:
        _record(job, summary)
        job.state = JobState.IMPORTED
        _remove_files(job)
    job.save()


def fail(job_id: int, error: BaseException) -> None:
    """A task crashed (a bug, the disk): the job says so instead of spinning forever."""
    ImportJob.objects.filter(pk=job_id).update(
        state=JobState.FAILED,
        problem={
            "zh": f"导入意外中止：{type(error).__name__}。请重试，或联系管理员。",
            "en": f"The import stopped unexpectedly ({type(error).__name__}). Try again, "
            "or tell an administrator.",
        },
    )


# ---------------------------------------------------------------------------------------
# Clean-up


def _remove_files(job: ImportJob) -> None:
    errors = [errors_path(job, lang) for lang in ERROR_LANGUAGES]
    for path in (Path(job.path), Path(f"{job.path}.errors.csv"), *errors, _progress_path(job)):
        path.unlink(missing_ok=True)


def clean_old(now: dt.datetime | None = None) -> int:
    """Remove uploads, errors and progress files older than ``LOUDOU_IMPORT_KEEP_HOURS``
    (and finished jobs after a week); how many files went. Run at every upload and by
    the worker's schedule."""
    now = now or timezone.now()
    cutoff = (now - dt.timedelta(hours=settings.LOUDOU_IMPORT_KEEP_HOURS)).timestamp()
    removed = 0
    folder = storage()
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed += 1
        except OSError:
            continue  # removed meanwhile by another process
    ImportJob.objects.filter(created_at__lt=now - dt.timedelta(days=JOBS_KEPT_DAYS)).exclude(
        state__in=[JobState.CHECKING, JobState.IMPORTING]
    ).delete()
    return removed
