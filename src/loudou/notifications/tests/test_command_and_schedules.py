"""`loudou notify preview|send` and the daily and weekly schedules."""

import io

from django.core.management import CommandError, call_command
from django.test import override_settings

from loudou.core.testing import ago
from loudou.jobs.schedules import all_schedules
from loudou.jobs.testing import run_tasks
from loudou.notifications import messages, platforms
from loudou.notifications.models import Delivery, DeliveryStatus
from loudou.notifications.tasks import send_digests, send_weekly

from .helpers import NotifyTestCase
from .receiver import Receiver, dead_url


def notify(*args: str) -> str:
    out = io.StringIO()
    call_command("notify", *args, stdout=out)
    return out.getvalue()


class CommandTests(NotifyTestCase):
    def test_preview_prints_the_message_as_sent(self):
        self.make_deal(name="陈旧商机", at=ago(40))
        out = notify("preview", "--team", "North", "--kind", "digest", "--lang", "en")
        self.assertEqual(out.strip(), platforms.markdown(messages.digest(self.north, "en")))
        self.assertIn("陈旧商机", out)
        body = notify("preview", "--team", "North", "--kind", "digest", "--platform", "wecom")
        self.assertIn('"msgtype":"markdown"', body)
        self.assertFalse(Delivery.objects.exists())  # a preview sends nothing

    def test_send_sends_now_to_the_teams_channels(self):
        with Receiver() as r:
            self.channel("wecom", r.url + "/send?key=k", language="en")
            self.channel("wecom", dead_url(), name="broken")
            self.channel("wecom", r.url + "/send?key=x", send_weekly=False, name="no weekly")
            out = notify("send", "--team", "North", "--kind", "weekly")
        self.assertEqual(len(r.requests), 1)
        self.assertIn("Weekly diagnosis · North", r.requests[0].json()["markdown"]["content"])
        self.assertIn("broken (wecom): ", out)
        self.assertEqual(
            Delivery.objects.get(channel__name="broken").status, DeliveryStatus.RETRYING
        )

    def test_unknown_team_or_no_channel(self):
        with self.assertRaisesMessage(CommandError, "No team named 'Nowhere'"):
            notify("preview", "--team", "Nowhere", "--kind", "digest")
        with self.assertRaisesMessage(CommandError, "no active channel"):
            notify("send", "--team", "North", "--kind", "digest")


class ScheduleTests(NotifyTestCase):
    def test_daily_and_weekly_are_registered_with_the_settings_cron(self):
        schedules = {s.name: s for s in all_schedules()}
        with override_settings(LOUDOU_DIGEST_CRON="15 9 * * *", LOUDOU_WEEKLY_CRON="0 10 * * 5"):
            self.assertEqual(schedules["notifications.daily_digest"].expression(), "15 9 * * *")
            self.assertEqual(schedules["notifications.weekly_diagnosis"].expression(), "0 10 * * 5")

    def test_the_digest_task_sends_one_message_per_channel_in_its_language(self):
        with Receiver() as r:
            self.channel("wecom", r.url + "/send?key=en", language="en")
            self.channel("wecom", r.url + "/send?key=zh", language="zh-hans")
            self.channel("wecom", r.url + "/send?key=off", send_digest=False)
            self.channel("wecom", r.url + "/send?key=south", team=self.south)
            send_digests.enqueue()
            run_tasks()
        keys = sorted(got.query["key"] for got in r.requests)
        self.assertEqual(keys, ["en", "south", "zh"])
        english = next(g for g in r.requests if g.query["key"] == "en")
        self.assertIn("Daily digest · North", english.json()["markdown"]["content"])

    def test_the_weekly_task(self):
        with Receiver() as r:
            self.channel("dingtalk", r.url + "/robot/send?access_token=t", "SECx", language="en")
            send_weekly.enqueue()
            run_tasks()
        self.assertIn("Weekly diagnosis", r.requests[0].json()["markdown"]["title"])
