"""What the messages say: the digest (stale, past expected close, waiting for approval,
the period's funnel against the quota), the weekly diagnosis, won deals and approval
requests, in the channel's language."""

import datetime as dt
from decimal import Decimal

from django.test import override_settings
from django.utils import timezone, translation

from loudou.core.testing import ago, ready_to_leave
from loudou.deals import services as deals
from loudou.deals.models import Deal
from loudou.notifications import messages, platforms
from loudou.notifications.models import ApprovalNotice, Delivery

from .helpers import NotifyTestCase
from .receiver import Receiver


def text(message: platforms.Message) -> str:
    return platforms.markdown(message)


@override_settings(LOUDOU_SITE_URL="https://crm.example.com")
class DigestTests(NotifyTestCase):
    def test_overdue_next_steps_per_rep(self):
        from loudou.activities.models import NextStep

        late = self.make_deal(name="回访商机")
        NextStep.objects.create(
            deal=late,
            type="call",
            due_at=timezone.now() - dt.timedelta(days=2),
            assignee=self.rep,
            created_by=self.rep,
        )
        on_time = self.make_deal(name="按时商机")
        NextStep.objects.create(
            deal=on_time,
            type="call",
            due_at=timezone.now() + dt.timedelta(days=2),
            assignee=self.rep,
            created_by=self.rep,
        )
        body = text(messages.digest(self.north, "en"))
        self.assertIn("回访商机", body)
        self.assertIn("next step overdue since", body)
        self.assertNotIn("按时商机", body)

    def test_stale_overdue_and_waiting_deals_per_rep(self):
        stale = self.make_deal(name="陈旧商机", at=ago(40))
        overdue = self.make_deal(
            owner=self.teammate,
            name="逾期商机",
            expected_close_date=timezone.localdate() - dt.timedelta(days=3),
        )
        self.make_deal(
            name="正常商机", expected_close_date=timezone.localdate() + dt.timedelta(days=30)
        )
        self.make_deal(owner=self.outsider, name="南区商机", at=ago(40))
        waiting = self.make_deal(name="待审批", stage=self.stages["negotiation"])
        Deal.objects.filter(pk=stale.pk).update(updated_at=ago(40))
        message = messages.digest(self.north, "en")
        body = text(message)
        self.assertIn("Daily digest · North", body)
        self.assertIn(f"[陈旧商机](https://crm.example.com/deals/{stale.pk}/)", body)
        self.assertIn("untouched for 40 days", body)
        self.assertIn(f"expected to close on {overdue.expected_close_date.isoformat()}", body)
        self.assertNotIn("正常商机", body)
        self.assertNotIn("南区商机", body)  # another team's
        headings = [s.heading for s in message.sections]
        self.assertIn("Rep", headings)
        self.assertIn("Teammate", headings)
        approvals = next(s for s in message.sections if "approval" in s.heading)
        self.assertEqual(len(approvals.lines), 1)
        self.assertIn(f"deals/{waiting.pk}/", approvals.lines[0])
        self.assertIn("1 waiting for approval", message.lead)

    def test_without_a_quota_it_says_so(self):
        self.assertIn("No quota for this period", text(messages.digest(self.north, "en")))

    def test_in_chinese(self):
        self.make_deal(name="陈旧商机", at=ago(40))
        body = text(messages.digest(self.north, "zh-hans"))
        self.assertIn("日报", body)
        self.assertNotIn("Daily digest", body)

    def test_a_long_digest_fits_each_platform_with_and_n_more(self):
        for i in range(120):
            self.make_deal(name=f"很长的商机名称 第{i:03d}号 " + "项目" * 10, at=ago(40))
        message = messages.digest(self.north, "en")
        with translation.override("en"):  # as delivery.queue renders: the channel's language
            wecom = platforms.payload("wecom", messages.digest(self.north, "en"))
        content = wecom["markdown"]["content"]
        self.assertLessEqual(len(content.encode()), platforms.WECOM_CONTENT_BYTES)
        self.assertRegex(content, r"…and \d+ more")
        self.assertIn("This period's funnel", content)  # short sections survive
        ding = platforms.to_json(platforms.payload("dingtalk", message))
        self.assertLessEqual(len(ding), platforms.DINGTALK_BODY_BYTES)
        feishu = platforms.to_json(platforms.payload("feishu", messages.digest(self.north, "en")))
        self.assertLessEqual(len(feishu) + 64, platforms.FEISHU_BODY_BYTES)


class EventMessageTests(NotifyTestCase):
    def test_a_won_deal_goes_to_its_teams_channels(self):
        with Receiver() as north, Receiver() as south:
            self.channel("wecom", north.url + "/send?key=k", language="en")
            self.channel("wecom", south.url + "/send?key=k", team=self.south)
            self.channel("wecom", north.url + "/send?key=off", send_won=False)
            deal = self.make_deal(name="大单", amount=Decimal("880000"), account=self.account)
            self.committed(lambda: deals.win_deal(actor=self.admin, deal=deal, override_reason="t"))
        (got,) = north.requests
        self.assertEqual(got.query["key"], "k")
        content = got.json()["markdown"]["content"]
        self.assertIn("Won: 大单", content)
        self.assertIn("880,000 CNY", content)
        self.assertIn("华为技术", content)
        self.assertEqual(south.requests, [])

    def test_a_deal_waiting_only_for_approval_is_announced_once_per_stay(self):
        with Receiver(answers=[(200, {"code": 0})]) as r:
            self.channel("feishu", r.url + "/hook", "sec", language="en")
            deal = self.make_deal(stage=self.stages["proposal"])
            deal = ready_to_leave(deal, self.rep)
            self.committed(
                lambda: deals.move_deal(
                    actor=self.rep, deal=deal, to_stage=self.stages["negotiation"]
                )
            )
            self.assertEqual(len(r.requests), 1)
            # Further changes while it waits: no second request.
            deal.refresh_from_db()
            self.committed(
                lambda: deals.update_deal(
                    actor=self.rep,
                    deal=deal,
                    expected_version=deal.version,
                    changes={"source": "referral"},
                )
            )
            self.assertEqual(len(r.requests), 1)
        card = r.requests[0].json()["card"]
        self.assertEqual(card["header"]["title"]["content"], f"Approval requested: {deal.name}")
        self.assertEqual(card["header"]["template"], "orange")
        self.assertEqual(ApprovalNotice.objects.filter(deal=deal).count(), 1)

    def test_no_approval_request_while_other_criteria_are_unmet(self):
        with Receiver() as r:
            self.channel("wecom", r.url + "/send?key=k")
            self.committed(lambda: self.make_deal(name="新"))  # contact: needs an activity
        self.assertEqual(r.requests, [])
        self.assertFalse(Delivery.objects.exists())


class ExplicitApprovalRequestTests(NotifyTestCase):
    """A request-approval service (the daily branch's ``request_approval``) announces
    ``approval.requested``: the team's channels and the subscribers hear it."""

    def test_an_explicit_request_reaches_the_channel_and_the_webhook_once(self):
        from loudou.core import events

        with Receiver() as chat, Receiver() as hook:
            self.channel("wecom", chat.url + "/send?key=k", language="en")
            self.subscription(hook.url, ["approval.requested"])
            deal = self.make_deal(stage=self.stages["negotiation"])
            for _ in range(2):  # asked twice during the same stay: one chat message
                self.committed(
                    lambda: events.emit("approval.requested", deal_id=deal.pk, actor_id=self.rep.pk)
                )
        self.assertEqual(len(chat.requests), 1)
        self.assertIn("Approval requested", chat.requests[0].json()["markdown"]["content"])
        self.assertEqual([g.json()["event"] for g in hook.requests], ["approval.requested"] * 2)
