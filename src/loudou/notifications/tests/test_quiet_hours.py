"""Quiet hours hold a channel's messages until they end (in the organisation's time
zone, windows may wrap midnight)."""

import datetime as dt
import zoneinfo

from django.test import override_settings
from django.utils import timezone

from loudou.jobs.testing import queued, run_tasks
from loudou.notifications import delivery as sending
from loudou.notifications import services
from loudou.notifications.models import DeliveryStatus

from .helpers import NotifyTestCase
from .receiver import Receiver

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def local(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 30, hour, minute, tzinfo=SHANGHAI)


@override_settings(TIME_ZONE="Asia/Shanghai")
class QuietHoursTests(NotifyTestCase):
    def test_windows_over_midnight_and_within_a_day(self):
        night = self.channel("wecom", "abcdefgh", quiet_start=dt.time(22), quiet_end=dt.time(8))
        self.assertEqual(sending.quiet_until(night, local(23)), local(8) + dt.timedelta(days=1))
        self.assertEqual(sending.quiet_until(night, local(7, 59)), local(8))
        self.assertIsNone(sending.quiet_until(night, local(8)))
        self.assertIsNone(sending.quiet_until(night, local(21, 59)))
        lunch = self.channel("wecom", "abcdefgh", quiet_start=dt.time(12), quiet_end=dt.time(14))
        self.assertEqual(sending.quiet_until(lunch, local(12, 30)), local(14))
        self.assertIsNone(sending.quiet_until(lunch, local(14)))
        self.assertIsNone(sending.quiet_until(self.channel("wecom", "abcdefgh"), local(3)))

    def test_a_message_in_quiet_hours_is_held_then_sent(self):
        now = timezone.localtime(timezone.now(), SHANGHAI)
        start = (now - dt.timedelta(hours=1)).time().replace(second=0, microsecond=0)
        end = (now + dt.timedelta(hours=1)).time().replace(second=0, microsecond=0)
        with Receiver() as r:
            channel = self.channel("wecom", r.url + "/send?key=k", quiet_start=start, quiet_end=end)
            delivery = self.committed(
                lambda: services.send_test(actor=self.manager, channel=channel)
            )
            delivery.refresh_from_db()
            self.assertEqual(delivery.status, DeliveryStatus.HELD)
            self.assertEqual(r.requests, [])
            self.assertEqual(delivery.log.count(), 0)  # holding is not an attempt
            (task,) = queued("deliver")
            self.assertEqual(task.run_after, delivery.next_attempt_at)
            self.assertGreater(delivery.next_attempt_at, timezone.now() + dt.timedelta(minutes=50))
            # Quiet hours over: the held message goes out.
            channel.quiet_start = channel.quiet_end = None
            channel.save()
            task.run_after = timezone.now()
            task.save()
            run_tasks()
        delivery.refresh_from_db()
        self.assertEqual(delivery.status, DeliveryStatus.SENT)
        self.assertEqual(len(r.requests), 1)
