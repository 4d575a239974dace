"""Tasks enqueued by a use case run in the worker after the commit, never before and
never for a change rolled back; a failing task is recorded and the worker goes on."""

import datetime as dt

from django.db import transaction
from django.test import TestCase
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from loudou.jobs.queue import enqueue_on_commit
from loudou.jobs.testing import queued, run_tasks
from loudou.jobs.worker import ABANDONED_AFTER, requeue_abandoned

from . import sample_tasks


class QueueTests(TestCase):
    def setUp(self):
        sample_tasks.CALLS.clear()

    def test_enqueued_on_commit_then_run_by_the_worker(self):
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            enqueue_on_commit(sample_tasks.record, "a")
            self.assertEqual(queued("record"), [])  # nothing before the commit
        for callback in callbacks:
            callback()
        self.assertEqual(len(queued("record")), 1)
        self.assertEqual(run_tasks(), 1)
        self.assertEqual(sample_tasks.CALLS, ["a"])
        result = DBTaskResult.objects.get()
        self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)
        self.assertEqual(result.return_value, "ok")

    def test_nothing_is_enqueued_for_a_rolled_back_change(self):
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            try:
                with transaction.atomic():
                    enqueue_on_commit(sample_tasks.record, "never")
                    raise ValueError
            except ValueError:
                pass
        self.assertEqual(callbacks, [])
        self.assertEqual(run_tasks(), 0)
        self.assertEqual(sample_tasks.CALLS, [])

    def test_a_failing_task_is_recorded_and_the_worker_goes_on(self):
        sample_tasks.explode.enqueue()
        sample_tasks.record.enqueue("after")
        self.assertEqual(run_tasks(), 2)
        self.assertEqual(sample_tasks.CALLS, ["after"])
        failed = DBTaskResult.objects.get(status=TaskResultStatus.FAILED)
        self.assertIn("RuntimeError: boom", failed.traceback)

    def test_deferred_tasks_wait_for_their_time(self):
        later = timezone.now() + dt.timedelta(minutes=5)
        sample_tasks.record.using(run_after=later).enqueue("later")
        self.assertEqual(run_tasks(), 0)
        self.assertEqual(len(queued("record")), 1)

    def test_a_task_abandoned_by_a_dead_worker_runs_again(self):
        result = sample_tasks.record.enqueue("again")
        started = timezone.now() - ABANDONED_AFTER - dt.timedelta(minutes=1)
        DBTaskResult.objects.filter(id=result.id).update(
            status=TaskResultStatus.RUNNING, started_at=started
        )
        recent = sample_tasks.record.enqueue("still running")
        DBTaskResult.objects.filter(id=recent.id).update(
            status=TaskResultStatus.RUNNING, started_at=timezone.now()
        )
        self.assertEqual(requeue_abandoned(), 1)
        self.assertEqual(run_tasks(), 1)
        self.assertEqual(sample_tasks.CALLS, ["again"])
