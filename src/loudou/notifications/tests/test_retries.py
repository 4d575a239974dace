"""A failing channel is retried with exponential backoff, every attempt logged, and
given up after the last attempt (reported in the log and on the page)."""

import datetime as dt

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from loudou.jobs.testing import queued, run_tasks
from loudou.notifications import delivery as sending
from loudou.notifications import services
from loudou.notifications.models import Attempt, DeliveryStatus

from .helpers import NotifyTestCase
from .receiver import Receiver, dead_url


def release_deferred() -> None:
    """Bring the deferred retries' time forward to now (the clock, not the code, waits)."""
    DBTaskResult.objects.filter(run_after__isnull=False).update(run_after=timezone.now())


class RetryTests(NotifyTestCase):
    def test_backoff_grows_fourfold(self):
        self.assertEqual(
            [sending.backoff(n).total_seconds() for n in (1, 2, 3, 4)], [30, 120, 480, 1920]
        )

    def test_failures_are_retried_later_then_succeed(self):
        with Receiver(answers=[(500, {"error": "down"}), (502, b"bad gateway"), (200, {})]) as r:
            channel = self.channel("webhook", r.url + "/in", "k")
            before = timezone.now()
            delivery = self.committed(
                lambda: services.send_test(actor=self.manager, channel=channel)
            )
            delivery.refresh_from_db()
            self.assertEqual(delivery.status, DeliveryStatus.RETRYING)
            self.assertEqual(delivery.attempts, 1)
            # The retry waits ~30 s: it is queued for later, not run at once.
            wait = delivery.next_attempt_at - before
            self.assertGreaterEqual(wait, dt.timedelta(seconds=29))
            self.assertLess(wait, dt.timedelta(seconds=40))
            self.assertEqual(len(queued("deliver")), 1)
            self.assertEqual(run_tasks(), 0)

            release_deferred()
            run_tasks()
            delivery.refresh_from_db()
            self.assertEqual(delivery.attempts, 2)
            self.assertGreaterEqual(
                delivery.next_attempt_at - timezone.now(), dt.timedelta(seconds=110)
            )
            release_deferred()
            run_tasks()
        delivery.refresh_from_db()
        self.assertEqual(delivery.status, DeliveryStatus.SENT)
        self.assertEqual(len(r.requests), 3)
        log = list(Attempt.objects.filter(delivery=delivery).order_by("number"))
        self.assertEqual(
            [(a.number, a.ok, a.status_code) for a in log],
            [(1, False, 500), (2, False, 502), (3, True, 200)],
        )
        self.assertIn("bad gateway", log[1].error)

    def test_a_dead_channel_is_given_up_after_the_last_attempt_and_reported(self):
        channel = self.channel("wecom", dead_url())
        with self.assertLogs("loudou.notifications", "ERROR") as logs:
            delivery = self.committed(
                lambda: services.send_test(actor=self.manager, channel=channel)
            )
            for _ in range(sending.MAX_ATTEMPTS):
                release_deferred()
                run_tasks()
        delivery.refresh_from_db()
        self.assertEqual(delivery.status, DeliveryStatus.FAILED)
        self.assertEqual(delivery.attempts, sending.MAX_ATTEMPTS)
        self.assertEqual(delivery.log.count(), sending.MAX_ATTEMPTS)
        self.assertIn("Connection", delivery.last_error)
        self.assertIn("failed 6 times", logs.output[0])
        self.assertEqual(queued("deliver"), [])
        # The page shows it to the team's manager.
        self.client.force_login(self.manager)
        page = self.client.get("/notifications/").content.decode()
        self.assertIn(delivery.get_status_display(), page)


class PruneTests(NotifyTestCase):
    def test_finished_deliveries_are_pruned_after_the_keep_days(self):
        from django.test import override_settings

        from loudou.notifications.models import Delivery

        channel = self.channel("wecom", "wecom-key-12345678")
        old_sent, old_waiting, recent = (
            Delivery.objects.create(channel=channel, kind="test", payload={}, status=status)
            for status in (DeliveryStatus.SENT, DeliveryStatus.RETRYING, DeliveryStatus.FAILED)
        )
        Attempt.objects.create(
            delivery=old_sent, number=1, at=timezone.now(), ok=True, duration_ms=1
        )
        Delivery.objects.filter(pk__in=[old_sent.pk, old_waiting.pk]).update(
            created_at=timezone.now() - dt.timedelta(days=91)
        )
        with override_settings(LOUDOU_NOTIFY_KEEP_DAYS=90):
            self.assertEqual(sending.prune(), 1)
        self.assertEqual(
            set(Delivery.objects.values_list("pk", flat=True)), {old_waiting.pk, recent.pk}
        )
        self.assertFalse(Attempt.objects.exists())
