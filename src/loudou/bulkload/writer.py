"""A writer thread for bulk loads, on the load's own connection and transaction."""

import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

Job = Callable[["BaseDatabaseWrapper"], None]


class BackgroundWriter:
    """Runs database writes, in the order given, in a second thread on the caller's own
    connection (so inside its transaction) while the caller prepares the next ones.

    Both drivers leave Python's lock while the database works (a multi-row INSERT in
    SQLite, a round trip to PostgreSQL), so the two threads really overlap.

    The writer owns the hand-over of the connection: while it runs, any statement the
    caller's thread sends through Django on that connection (an ORM query, a savepoint,
    a raw cursor) first waits for every queued job to finish. Callers never have to
    remember to; a job's error is raised in the caller's thread by that statement, the
    next ``submit()``, ``drain()`` or the end of the ``with``."""

    def __init__(self, connection: "BaseDatabaseWrapper", depth: int = 1) -> None:
        # The wrapper itself, not django.db.connection: that proxy is per thread.
        self.connection = connection
        # depth: how many prepared jobs may wait (memory: a batch each).
        self.jobs: queue.Queue[Job | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._run, name="loudou-writer", daemon=True)

    def __enter__(self) -> "BackgroundWriter":
        self.connection.inc_thread_sharing()
        self.connection.execute_wrappers.append(self._hand_over)
        self.thread.start()
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self.cancelled = kind is not None  # the caller failed: skip what is still queued
        self.jobs.put(None)
        self.thread.join()
        self.connection.execute_wrappers.remove(self._hand_over)
        self.connection.dec_thread_sharing()
        if kind is None:
            self._raise()

    def _hand_over(self, execute: Callable[..., Any], *args: Any) -> Any:
        """Django's execute wrapper: the caller's statements wait for the queued jobs
        (one connection, one transaction, used by one thread at a time)."""
        if threading.current_thread() is not self.thread:
            self.drain()
        return execute(*args)

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                if self.error is None and not self.cancelled:
                    job(self.connection)
            except BaseException as error:  # handed to the caller's thread
                self.error = error
            finally:
                self.jobs.task_done()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def submit(self, job: Job) -> None:
        """Queue ``job``; it is called with the caller's connection (``django.db.connection``
        would be the writer thread's own)."""
        self._raise()
        self.jobs.put(job)

    def drain(self) -> None:
        """Wait until every job submitted so far has run."""
        self.jobs.join()
        self._raise()
