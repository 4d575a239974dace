"""Schedules come due in the organisation's time zone, fire once however many workers
tick, skip a run missed by more than their grace, and re-plan when their cron changes."""

import datetime as dt
import zoneinfo

from django.core.exceptions import ImproperlyConfigured
from django.test import TestCase, override_settings

from loudou.jobs import schedules
from loudou.jobs.models import ScheduleState
from loudou.jobs.testing import queued, run_tasks

from . import sample_tasks

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


class ScheduleTests(TestCase):
    def setUp(self):
        sample_tasks.CALLS.clear()
        self.cron = "30 8 * * 1-5"
        self.schedule = schedules.Schedule(
            name="test.digest",
            cron=lambda: self.cron,
            task=sample_tasks.record,
            grace=dt.timedelta(hours=2),
        )
        # Every app's schedules registered first: they register once, on import, so what is
        # put back after the test must hold them all.
        schedules.all_schedules()
        saved = dict(schedules._REGISTRY)
        schedules._REGISTRY.clear()
        schedules.register(self.schedule)
        self.addCleanup(lambda: (schedules._REGISTRY.clear(), schedules._REGISTRY.update(saved)))

    @override_settings(TIME_ZONE="Asia/Shanghai")
    def test_due_times_are_local(self):
        friday_evening = local(2026, 3, 6, 20, 0)
        self.assertEqual(
            schedules.next_due("30 8 * * 1-5", friday_evening),
            local(2026, 3, 9, 8, 30).astimezone(dt.UTC),  # Monday 08:30 in Shanghai
        )

    @override_settings(TIME_ZONE="Asia/Shanghai")
    def test_a_due_run_fires_once_with_its_due_time(self):
        self.assertEqual(schedules.tick(local(2026, 3, 9, 8, 0)), [])  # planned only
        state = ScheduleState.objects.get(name="test.digest")
        self.assertEqual(state.next_due_at, local(2026, 3, 9, 8, 30))
        self.assertEqual(schedules.tick(local(2026, 3, 9, 8, 29)), [])
        fired = schedules.tick(local(2026, 3, 9, 8, 30, 5))
        self.assertEqual([f.name for f in fired], ["test.digest"])
        # A second worker ticking at the same moment finds nothing to do.
        self.assertEqual(schedules.tick(local(2026, 3, 9, 8, 30, 6)), [])
        self.assertEqual(len(queued("record")), 1)
        run_tasks()
        self.assertEqual(
            sample_tasks.CALLS, [local(2026, 3, 9, 8, 30).astimezone(dt.UTC).isoformat()]
        )
        state.refresh_from_db()
        self.assertEqual(state.next_due_at, local(2026, 3, 10, 8, 30))
        self.assertEqual(state.last_task_id, fired[0].task_id)

    @override_settings(TIME_ZONE="Asia/Shanghai")
    def test_a_run_missed_within_grace_is_made_up_later_ones_are_skipped(self):
        schedules.tick(local(2026, 3, 9, 8, 0))
        made_up = schedules.tick(local(2026, 3, 9, 10, 0))  # worker down for 1.5 h
        self.assertIsNotNone(made_up[0].task_id)
        skipped = schedules.tick(local(2026, 3, 10, 11, 0))  # 2.5 h late: past the grace
        self.assertEqual(len(skipped), 1)
        self.assertIsNone(skipped[0].task_id)
        self.assertTrue(ScheduleState.objects.get().last_skipped)
        self.assertEqual(len(queued("record")), 1)

    @override_settings(TIME_ZONE="Asia/Shanghai")
    def test_a_changed_expression_is_planned_again(self):
        schedules.tick(local(2026, 3, 9, 8, 0))
        self.cron = "0 18 * * *"
        self.assertEqual(schedules.tick(local(2026, 3, 9, 9, 0)), [])
        state = ScheduleState.objects.get()
        self.assertEqual((state.cron, state.next_due_at), ("0 18 * * *", local(2026, 3, 9, 18, 0)))

    def test_a_bad_expression_is_a_configuration_error(self):
        self.cron = "every morning"
        with self.assertRaisesMessage(ImproperlyConfigured, "not a cron expression"):
            schedules.tick()

    def test_the_housekeeping_schedule_is_registered(self):
        schedules._REGISTRY.clear()
        schedules._housekeeping()
        self.assertEqual(
            [s.name for s in schedules._REGISTRY.values()], ["jobs.prune_finished_tasks"]
        )
