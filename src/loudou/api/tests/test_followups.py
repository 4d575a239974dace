"""Contract: next steps and approval requests over the API (the services of Today and the
deal page, the same rules)."""

import datetime as dt

from django.utils import timezone

from loudou.activities.models import Activity, NextStep
from loudou.deals.models import ApprovalStatus, Deal

from .base import ApiTestCase


class NextStepApiTests(ApiTestCase):
    def test_schedule_list_reschedule_complete_cancel(self):
        deal = self.make_deal()
        due = (timezone.now() + dt.timedelta(days=2)).isoformat()
        made = self.call(
            "post",
            f"/deals/{deal.pk}/next-steps",
            self.rep,
            {"type": "call", "due_at": due, "note": "问预算"},
        )
        self.assertEqual(made.status_code, 201, made.content)
        step = made.json()
        self.assertEqual(
            (step["assignee"], step["overdue"], step["note"]), ("rep", False, "问预算")
        )
        listed = self.call("get", "/next-steps?mine=true", self.rep).json()
        self.assertEqual([s["id"] for s in listed], [step["id"]])
        self.assertEqual(self.call("get", "/next-steps?mine=true", self.manager).json(), [])
        later = (timezone.now() + dt.timedelta(days=5)).isoformat()
        moved = self.call("patch", f"/next-steps/{step['id']}", self.rep, {"due_at": later})
        self.assertEqual(moved.status_code, 200)
        done = self.call(
            "post",
            f"/next-steps/{step['id']}/complete",
            self.rep,
            {"outcome": "positive", "note": "谈妥"},
        )
        self.assertEqual(done.status_code, 201, done.content)
        activity = Activity.objects.get(pk=done.json()["activity_id"])
        self.assertEqual((activity.type, activity.outcome), ("call", "positive"))
        self.assertIn("谈妥", activity.note)
        # Done: no longer an open step.
        self.assertEqual(
            self.call("delete", f"/next-steps/{step['id']}", self.rep).status_code, 404
        )
        other = NextStep.objects.create(
            deal=deal, type="task", due_at=timezone.now(), assignee=self.rep, created_by=self.rep
        )
        self.assertEqual(self.call("delete", f"/next-steps/{other.pk}", self.rep).status_code, 204)

    def test_bad_input_is_a_clear_error(self):
        deal = self.make_deal()
        naive = self.call(
            "post",
            f"/deals/{deal.pk}/next-steps",
            self.rep,
            {"type": "call", "due_at": "2027-01-01T10:00:00"},
        )
        self.assertIn(naive.status_code, (400, 422))
        self.assertEqual(set(naive.json()), {"code", "message", "details"})
        kind = self.call(
            "post",
            f"/deals/{deal.pk}/next-steps",
            self.rep,
            {"type": "fax", "due_at": "2027-01-01T10:00:00Z"},
        )
        self.assertEqual(kind.status_code, 400)
        hidden = self.call(
            "post",
            f"/deals/{deal.pk}/next-steps",
            self.outsider,
            {"type": "call", "due_at": "2027-01-01T10:00:00Z"},
        )
        self.assertError(hidden, 404, "not_found")


class ApprovalRequestApiTests(ApiTestCase):
    def test_ask_queue_decide(self):
        deal = self.make_deal(stage=self.stages["negotiation"])
        asked = self.call(
            "post", f"/deals/{deal.pk}/approval-requests", self.rep, {"note": "客户已确认"}
        )
        self.assertEqual(asked.status_code, 201, asked.content)
        request_id = asked.json()["id"]
        self.assertEqual(
            [r["id"] for r in self.call("get", "/approval-requests", self.manager).json()],
            [request_id],
        )
        self.assertEqual(self.call("get", "/approval-requests", self.rep).json(), [])
        refused = self.call(
            "post", f"/approval-requests/{request_id}/decide", self.rep, {"approve": True}
        )
        self.assertEqual(refused.status_code, 403)
        no_note = self.call(
            "post", f"/approval-requests/{request_id}/decide", self.manager, {"approve": False}
        )
        self.assertEqual(no_note.status_code, 400)
        decided = self.call(
            "post",
            f"/approval-requests/{request_id}/decide",
            self.manager,
            {"approve": True, "note": "同意"},
        )
        self.assertEqual(decided.status_code, 200, decided.content)
        self.assertEqual(
            (decided.json()["status"], decided.json()["decided_by"]),
            (ApprovalStatus.APPROVED, "manager"),
        )
        again = self.call("post", f"/deals/{deal.pk}/approval-requests", self.rep, {})
        self.assertEqual(again.status_code, 400)  # approved already
        self.assertEqual(Deal.objects.get(pk=deal.pk).status, "open")


class NoNextStepFilterTests(ApiTestCase):
    def test_open_deals_without_a_next_step(self):
        idle = self.make_deal(name="idle")
        planned = self.make_deal(name="planned")
        NextStep.objects.create(
            deal=planned, type="call", due_at=timezone.now(), assignee=self.rep, created_by=self.rep
        )

        def names(query: str) -> list[str]:
            return sorted(
                d["name"] for d in self.call("get", f"/deals?{query}", self.rep).json()["items"]
            )

        self.assertEqual(names("no_next_step=true"), ["idle"])
        self.assertEqual(names("no_next_step=false"), ["planned"])
        self.assertEqual(idle.status, "open")
