"""Today: the sections, the reasons in words, the team per rep, bounded queries; the
next-step and approval pages and actions with the permission matrix."""

import datetime as dt
from unittest import mock

from django.urls import reverse
from django.utils import timezone

from loudou.activities.models import NextStep
from loudou.activities.services import log_activity, schedule_next_step
from loudou.core.testing import LoudouTestCase, ago
from loudou.deals import services
from loudou.deals.models import ApprovalRequest, ApprovalStatus, Deal


def later(days: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def backdate(deal: Deal, days: int) -> None:
    """Make ``deal`` untouched for ``days`` (set-up only: no service moves time back)."""
    at = ago(days)
    Deal.objects.filter(pk=deal.pk).update(
        created_at=at, stage_entered_at=at, updated_at=at, last_activity_at=None
    )


USERS = ("rep", "teammate", "manager", "other_manager", "outsider", "admin")


class TodayPageTests(LoudouTestCase):
    def test_sections_and_reasons(self):
        stale = self.make_deal(name="久未跟进")
        limit = stale.stage.rot_days
        backdate(stale, limit + 5)
        late = self.make_deal(
            name="逾期成交", expected_close_date=timezone.localdate() - dt.timedelta(days=3)
        )
        step_deal = self.make_deal(name="要回电")
        schedule_next_step(actor=self.rep, deal=step_deal, type="call", due_at=ago(2))
        future = schedule_next_step(actor=self.rep, deal=late, type="visit", due_at=later(3))
        self.client.force_login(self.rep)
        with self.settings(LANGUAGE_CODE="en"):
            response = self.client.get("/today/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        mine = response.context["today"].mine
        self.assertEqual([i.deal.name for i in mine.steps], ["要回电"])
        self.assertEqual(mine.steps[0].reason, "overdue by 2 days")
        self.assertNotIn(future.pk, [i.step.pk for i in mine.steps])
        self.assertEqual(
            [i.reason for i in mine.stale],
            [f"untouched for {limit + 5} days; this stage's limit is {limit} days"],
        )
        self.assertEqual([i.reason for i in mine.past_close], ["expected to close 3 days ago"])
        self.assertEqual({i.deal.name for i in mine.unscheduled}, {"久未跟进"})
        self.assertContains(response, f"untouched for {limit + 5} days")

    def test_zh_hans_and_plural_one(self):
        deal = self.make_deal(name="一天")
        schedule_next_step(actor=self.rep, deal=deal, type="call", due_at=ago(1.1))
        self.client.force_login(self.rep)
        response = self.client.get("/today/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.context["today"].mine.steps[0].reason, "overdue by 1 day")
        response = self.client.get("/today/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        self.assertContains(response, "<h1>今天")

    def test_one_criterion_away(self):
        # "contact" needs one activity (METRICS.md default criteria): a new deal lacks just it.
        deal = self.make_deal(name="差一步")
        self.client.force_login(self.rep)
        response = self.client.get("/today/", HTTP_ACCEPT_LANGUAGE="en")
        away = response.context["today"].mine.one_away
        expected = services.check_move(deal=deal, to_stage=self.stages["needs"])
        self.assertEqual(len(expected), 1)
        self.assertEqual([i.deal.pk for i in away], [deal.pk])
        self.assertEqual(
            away[0].reason, f"to reach {self.stages['needs'].name_en}: {expected[0].message_en}"
        )
        # Once met, it is not "one away" any more (a "needs" deal lacks two fields).
        log_activity(actor=self.rep, deal=deal, type="call")
        response = self.client.get("/today/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.context["today"].mine.one_away, [])

    def test_ranked_by_urgency_then_weighted_amount(self):
        small = self.make_deal(name="小", amount="1000")
        big = self.make_deal(name="大", amount="900000")
        older = self.make_deal(name="更早", amount="10")
        for deal, days in ((small, 1.1), (big, 1.1), (older, 3.1)):
            schedule_next_step(actor=self.rep, deal=deal, type="call", due_at=ago(days))
        self.client.force_login(self.rep)
        response = self.client.get("/today/")
        self.assertEqual(
            [i.deal.name for i in response.context["today"].mine.steps], ["更早", "大", "小"]
        )

    def test_who_sees_what(self):
        mine = self.make_deal(name="REP-DEAL")
        theirs = self.make_deal(owner=self.outsider, name="SOUTH-DEAL")
        for deal in (mine, theirs):
            backdate(deal, 40)
        expected = {
            "rep": ({"REP-DEAL"}, {}),
            "teammate": (set(), {}),
            "manager": (set(), {"rep": {"REP-DEAL"}}),
            "other_manager": (set(), {"outsider": {"SOUTH-DEAL"}}),
            "outsider": ({"SOUTH-DEAL"}, {}),
            "admin": (set(), {}),
        }
        for name in USERS:
            with self.subTest(user=name):
                self.client.force_login(getattr(self, name))
                today = self.client.get("/today/").context["today"]
                own, team = expected[name]
                self.assertEqual({i.deal.name for i in today.mine.stale}, own)
                self.assertEqual(
                    {rep.username: {i.deal.name for i in a.stale} for rep, a in today.team}, team
                )

    def test_query_count_does_not_grow_with_deals(self):
        def fill(n: int) -> None:
            for i in range(n):
                deal = self.make_deal(name=f"d{i}", expected_close_date=timezone.localdate())
                schedule_next_step(actor=self.rep, deal=deal, type="call", due_at=ago(1))
                services.update_deal(
                    actor=self.rep,
                    deal=deal,
                    expected_version=deal.version,
                    changes={"custom": {"budget": 1}},
                )

        fill(2)
        self.client.force_login(self.manager)
        self.client.get("/today/")  # warm caches (content types, sessions)
        with self.assertNumQueries(14):
            self.client.get("/today/")
        fill(8)
        with self.assertNumQueries(14):
            self.client.get("/today/")

    def test_long_sections_keep_the_most_urgent_and_link_to_the_rest(self):
        for i in range(4):
            backdate(self.make_deal(name=f"old{i}", amount=str(1000 * (i + 1))), 30 + i)
        self.client.force_login(self.rep)
        with mock.patch("loudou.deals.today.SHOWN_MINE", 2):
            response = self.client.get("/today/", HTTP_ACCEPT_LANGUAGE="en")
        mine = response.context["today"].mine
        self.assertEqual([i.deal.name for i in mine.stale], ["old3", "old2"])
        self.assertEqual(mine.total["stale"], 4)
        self.assertContains(response, f"/deals/?status=open&amp;owner={self.rep.pk}&amp;stale=1")
        self.assertContains(response, "and 2 more")

    def test_anonymous_is_sent_to_login(self):
        self.assertRedirects(self.client.get("/today/"), "/login/?next=/today/")


class NextStepViewTests(LoudouTestCase):
    def test_schedule_from_the_deal_page_in_the_future(self):
        deal = self.make_deal()
        due = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        allowed = {"rep", "manager", "admin"}
        for name in USERS:
            with self.subTest(user=name):
                self.client.force_login(getattr(self, name))
                before = NextStep.objects.count()
                response = self.client.post(
                    f"/deals/{deal.pk}/next-steps/", {"type": "visit", "due_at": due, "note": "x"}
                )
                if name in allowed:
                    self.assertRedirects(response, f"/deals/{deal.pk}/")
                    self.assertEqual(NextStep.objects.count(), before + 1)
                else:
                    self.assertEqual(response.status_code, 404)
                    self.assertEqual(NextStep.objects.count(), before)
        self.assertEqual(set(NextStep.objects.values_list("assignee", flat=True)), {self.rep.pk})

    def test_bad_input_is_a_message(self):
        deal = self.make_deal()
        self.client.force_login(self.rep)
        response = self.client.post(
            f"/deals/{deal.pk}/next-steps/", {"type": "fax", "due_at": "soon"}, follow=True
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue([m for m in response.context["messages"] if m.level_tag == "error"])
        self.assertFalse(NextStep.objects.exists())

    def test_complete_and_reschedule_with_htmx(self):
        deal = self.make_deal(name="跟进")
        allowed = {"rep", "manager", "admin"}
        for name in USERS:
            with self.subTest(user=name):
                step = schedule_next_step(actor=self.rep, deal=deal, type="call", due_at=ago(1))
                self.client.force_login(getattr(self, name))
                response = self.client.post(
                    f"/next-steps/{step.pk}/reschedule/",
                    {"due_at": "2031-05-06T10:30"},
                    HTTP_HX_REQUEST="true",
                )
                step.refresh_from_db()
                if name not in allowed:
                    self.assertEqual(response.status_code, 404)
                    self.assertNotEqual(timezone.localtime(step.due_at).year, 2031)
                    continue
                self.assertContains(response, f'id="step-{step.pk}"')
                self.assertEqual(
                    timezone.localtime(step.due_at).strftime("%Y-%m-%d %H:%M"), "2031-05-06 10:30"
                )
                response = self.client.post(
                    f"/next-steps/{step.pk}/complete/",
                    {"outcome": "positive", "note": "谈妥"},
                    HTTP_HX_REQUEST="true",
                )
                step.refresh_from_db()
                self.assertIsNotNone(step.done_at)
                self.assertEqual(step.activity.note, "谈妥")
                self.assertContains(response, 'class="item step done"')
                # Again: a message, nothing changes.
                logged = deal.activities.count()
                response = self.client.post(
                    f"/next-steps/{step.pk}/complete/", {}, HTTP_HX_REQUEST="true"
                )
                self.assertContains(response, 'class="msg error"')
                self.assertEqual(deal.activities.count(), logged)

    def test_cancel(self):
        deal = self.make_deal()
        for name in USERS:
            with self.subTest(user=name):
                step = schedule_next_step(actor=self.rep, deal=deal, type="call", due_at=ago(1))
                self.client.force_login(getattr(self, name))
                response = self.client.post(
                    f"/next-steps/{step.pk}/cancel/", HTTP_HX_REQUEST="true"
                )
                gone = not NextStep.objects.filter(pk=step.pk).exists()
                if name in ("rep", "manager", "admin"):
                    self.assertContains(response, 'class="msg success"')
                    self.assertTrue(gone)
                else:
                    self.assertEqual(response.status_code, 404)
                    self.assertFalse(gone)

    def test_get_on_an_action_is_a_page_not_an_empty_405(self):
        deal = self.make_deal()
        self.client.force_login(self.rep)
        for url in (f"/deals/{deal.pk}/edit/", f"/deals/{deal.pk}/next-steps/"):
            with self.subTest(url=url):
                response = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en")
                self.assertEqual(response.status_code, 405)
                self.assertEqual(response["Allow"], "POST")
                self.assertContains(response, "Back to Today", status_code=405)


class ApprovalViewTests(LoudouTestCase):
    def setUp(self):
        self.deal = self.make_deal(stage=self.stages["negotiation"], name="大单")

    def test_request_from_the_deal_page(self):
        allowed = {"rep", "manager", "admin"}
        for name in USERS:
            with self.subTest(user=name):
                ApprovalRequest.objects.all().delete()
                self.client.force_login(getattr(self, name))
                response = self.client.post(
                    f"/deals/{self.deal.pk}/approval-request/", {"note": "请批"}
                )
                if name in allowed:
                    self.assertRedirects(response, f"/deals/{self.deal.pk}/")
                    self.assertEqual(ApprovalRequest.objects.get().note, "请批")
                else:
                    self.assertEqual(response.status_code, 404)
                    self.assertFalse(ApprovalRequest.objects.exists())

    def test_queue_count_and_decision(self):
        request = services.request_approval(actor=self.rep, deal=self.deal, note="请批")
        for name in USERS:
            with self.subTest(user=name):
                self.client.force_login(getattr(self, name))
                response = self.client.get("/approvals/")
                waiting = list(response.context["waiting"])
                self.assertEqual(waiting, [request] if name in ("manager", "admin") else [])
                today = self.client.get("/today/").context["today"]
                self.assertEqual(today.approvals_waiting, waiting)
        # Refused by the rep, the teammate, the other manager, the outsider: nothing changes.
        for name in ("rep", "teammate", "other_manager", "outsider"):
            with self.subTest(decide=name):
                self.client.force_login(getattr(self, name))
                response = self.client.post(
                    f"/approvals/{request.pk}/decide/", {"decision": "approve"}
                )
                self.assertIn(response.status_code, (302, 404))
                request.refresh_from_db()
                self.assertEqual(request.status, ApprovalStatus.PENDING)
        self.client.force_login(self.manager)
        response = self.client.get(f"/deals/{self.deal.pk}/")
        self.assertContains(response, f'action="/approvals/{request.pk}/decide/"')
        response = self.client.post(
            f"/approvals/{request.pk}/decide/", {"decision": "approve", "note": "同意"}
        )
        self.assertRedirects(response, reverse("approval_queue"))
        request.refresh_from_db()
        self.assertEqual((request.status, request.decision_note), (ApprovalStatus.APPROVED, "同意"))
        # Once approved: no approve button, no request button; the history shows both.
        response = self.client.get(f"/deals/{self.deal.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertNotContains(response, f"/deals/{self.deal.pk}/approve/")
        self.assertNotContains(response, "/approval-request/")
        self.assertContains(response, "同意")
        self.client.force_login(self.rep)
        today = self.client.get("/today/").context["today"]
        self.assertEqual([a.pk for a in today.answers], [request.pk])

    def test_top_bar_count(self):
        services.request_approval(actor=self.rep, deal=self.deal)
        self.client.force_login(self.manager)
        response = self.client.get("/today/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(response, 'title="Approval requests waiting for you">1<')
        self.client.force_login(self.rep)
        response = self.client.get("/today/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertNotContains(response, "Approval requests waiting for you")
