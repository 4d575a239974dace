"""Running queued tasks in tests, in the test's own process and database."""

from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .worker import Worker


def run_tasks(max_tasks: int = 1000) -> int:
    """Run every ready task (and those they enqueue) with a real worker, in batch mode;
    return how many ran. Tasks deferred to later (``run_after``) stay queued."""
    worker = Worker(
        batch=True, max_tasks=max_tasks, run_schedules=False, interval=0, manage_connections=False
    )
    worker.run()
    return worker.tasks_run


def queued(path_suffix: str = "") -> list[DBTaskResult]:
    """Tasks waiting to run whose path ends with ``path_suffix``."""
    return [
        t
        for t in DBTaskResult.objects.filter(status=TaskResultStatus.READY).order_by("enqueued_at")
        if t.task_path.endswith(path_suffix)
    ]
