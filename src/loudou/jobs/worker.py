"""The worker: one process running queued tasks and due schedules, until told to stop.

Built on django-tasks-db's ``Worker`` (its task claiming, running and result recording,
and its signal handling: SIGTERM or SIGINT finishes the task in hand, then exits; a second
signal stops at once). Added here: schedules ticked between tasks, abandoned tasks
requeued at start, and an exit when the process that started the worker (``loudou serve``
or ``loudou demo``) is gone.
"""

import datetime as dt
import logging
import os
import time

from django.db import close_old_connections
from django.db.utils import OperationalError
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from . import schedules

logger = logging.getLogger("loudou.jobs")

# A task still "running" this long after it started belongs to a worker that died (tasks
# here take seconds: one HTTP request, one message): it is run again.
ABANDONED_AFTER = dt.timedelta(minutes=15)
# Schedules are looked at this often (a due run starts at most this late).
SCHEDULE_EVERY = 10.0


def requeue_abandoned(now: dt.datetime | None = None) -> int:
    """Put tasks left running by a worker that died back in the queue; return how many."""
    cutoff = (now or timezone.now()) - ABANDONED_AFTER
    count = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=cutoff
    ).update(status=TaskResultStatus.READY)
    if count:
        logger.warning("Requeued %d task(s) abandoned by a worker that stopped.", count)
    return count


class Worker(DatabaseWorker):
    """Runs every queue of the default backend, and the schedules unless told not to."""

    def __init__(
        self,
        *,
        interval: float = 1.0,
        batch: bool = False,
        max_tasks: int | None = None,
        run_schedules: bool = True,
        parent_pid: int | None = None,
        backend_name: str = "default",
        manage_connections: bool = True,
    ) -> None:
        super().__init__(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=False,
            max_tasks=max_tasks,
            worker_id=f"loudou-{os.getpid()}-{get_random_string(8)}",
            excluded_queue_names=[],
        )
        self.run_schedules = run_schedules
        self.parent_pid = parent_pid
        # Like a request, a long-lived worker drops broken or expired connections between
        # tasks; not in a test, whose transaction the connection holds.
        self.manage_connections = manage_connections
        self._next_tick = 0.0

    @property
    def tasks_run(self) -> int:
        return self._run_tasks

    def _tick(self) -> None:
        if not self.run_schedules or time.monotonic() < self._next_tick:
            return
        self._next_tick = time.monotonic() + SCHEDULE_EVERY
        try:
            schedules.tick()
        except OperationalError as exc:
            if not is_locked_database_exception(exc):
                raise
        except Exception:
            # A broken schedule must not stop the tasks already queued.
            logger.exception("Ticking the schedules failed")

    def _claim(self) -> tuple[DBTaskResult | None, bool]:
        """The next ready task, claimed for this worker (None: none ready), and whether
        the queue could be read at all (False: the database was locked)."""
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
            except OperationalError as exc:
                if is_locked_database_exception(exc):
                    return None, False
                raise
            if task_result is not None:
                task_result.claim(self.worker_id)
        return task_result, True

    def _close_old_connections(self) -> None:
        if self.manage_connections:
            close_old_connections()

    def _orphaned(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def run(self) -> None:
        """Tick schedules and run tasks until stopped (batch: until the queue is empty)."""
        logger.info("Worker %s started.", self.worker_id)
        requeue_abandoned()
        while self.running:
            self._close_old_connections()
            self._tick()
            task_result, read = self._claim()
            if task_result is not None:
                self.run_task(task_result)
            elif self.batch and read:
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            if self._orphaned():
                logger.warning("The process that started this worker is gone: stopping.")
                return
            self._close_old_connections()
            if self.running and task_result is None:
                time.sleep(self.interval)
