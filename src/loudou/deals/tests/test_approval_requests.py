"""Approval requests: a rep asks, a manager approves or rejects with a note; the approval is
the one the "manager approval" exit criterion counts."""

from loudou.core.errors import InvalidInput, NotAllowed
from loudou.core.testing import LoudouTestCase
from loudou.deals import services
from loudou.deals.models import ApprovalRequest, ApprovalStatus, StageApproval
from loudou.deals.rules import CriteriaNotMet


class RequestTests(LoudouTestCase):
    def setUp(self):
        self.deal = self.make_deal(stage=self.stages["negotiation"])

    def test_request_then_approve_lets_the_deal_win(self):
        request = services.request_approval(actor=self.rep, deal=self.deal, note="客户已签字")
        self.assertEqual((request.status, request.note), (ApprovalStatus.PENDING, "客户已签字"))
        self.assertEqual(list(services.approval_queue(self.manager)), [request])
        with self.assertRaises(CriteriaNotMet):
            services.win_deal(actor=self.rep, deal=self.deal)
        services.decide_approval(actor=self.manager, request=request, approve=True, note="同意")
        request.refresh_from_db()
        self.assertEqual(
            (request.status, request.decided_by, request.decision_note),
            (ApprovalStatus.APPROVED, self.manager, "同意"),
        )
        self.assertEqual(request.approval.approved_by, self.manager)
        self.assertTrue(services.is_approved(deal=self.deal))
        self.assertEqual(list(services.approval_queue(self.manager)), [])
        services.win_deal(actor=self.rep, deal=self.deal)

    def test_reject_needs_a_note_and_gives_no_approval(self):
        request = services.request_approval(actor=self.rep, deal=self.deal)
        with self.assertRaises(InvalidInput):
            services.decide_approval(actor=self.manager, request=request, approve=False)
        services.decide_approval(
            actor=self.manager, request=request, approve=False, note="价格太低"
        )
        request.refresh_from_db()
        self.assertEqual(request.status, ApprovalStatus.REJECTED)
        self.assertFalse(StageApproval.objects.exists())
        with self.assertRaises(InvalidInput):  # decided already
            services.decide_approval(actor=self.manager, request=request, approve=True)
        # After a rejection the rep may ask again.
        services.request_approval(actor=self.rep, deal=self.deal, note="降价后")

    def test_one_waiting_request_and_none_once_approved_or_not_needed(self):
        services.request_approval(actor=self.rep, deal=self.deal)
        with self.assertRaises(InvalidInput):
            services.request_approval(actor=self.rep, deal=self.deal)
        services.approve_stage_exit(actor=self.manager, deal=self.deal)
        # The direct approval answered the waiting request.
        self.assertEqual(ApprovalRequest.objects.get().status, ApprovalStatus.APPROVED)
        with self.assertRaises(InvalidInput):
            services.request_approval(actor=self.rep, deal=self.deal)
        first_stage = self.make_deal()
        with self.assertRaises(InvalidInput):
            services.request_approval(actor=self.rep, deal=first_stage)

    def test_who_may_ask_and_decide(self):
        for actor in (self.teammate, self.other_manager, self.outsider):
            with self.subTest(ask=actor.username), self.assertRaises(NotAllowed):
                services.request_approval(actor=actor, deal=self.deal)
        request = services.request_approval(actor=self.rep, deal=self.deal)
        for actor in (self.rep, self.teammate, self.other_manager, self.outsider):
            with self.subTest(decide=actor.username), self.assertRaises(NotAllowed):
                services.decide_approval(actor=actor, request=request, approve=True)
            self.assertEqual(list(services.approval_queue(actor)), [])
        self.assertEqual(list(services.approval_queue(self.admin)), [request])
        services.decide_approval(actor=self.admin, request=request, approve=True)

    def test_a_manager_does_not_decide_on_their_own_deal(self):
        own = self.make_deal(owner=self.manager, stage=self.stages["negotiation"])
        request = services.request_approval(actor=self.manager, deal=own)
        self.assertEqual(list(services.approval_queue(self.manager)), [])
        with self.assertRaises(NotAllowed):
            services.decide_approval(actor=self.manager, request=request, approve=True)

    def test_a_deal_that_left_the_stage_cannot_be_approved_for_it(self):
        request = services.request_approval(actor=self.rep, deal=self.deal)
        services.move_deal(actor=self.rep, deal=self.deal, to_stage=self.stages["proposal"])
        with self.assertRaises(InvalidInput):
            services.decide_approval(actor=self.manager, request=request, approve=True)
        request.refresh_from_db()
        self.assertEqual(request.status, ApprovalStatus.PENDING)


class RequestEventTests(LoudouTestCase):
    def test_a_request_is_announced_after_commit(self):
        from loudou.core import events

        heard: list[tuple[str, dict]] = []

        def handler(name, data):
            heard.append((name, data))

        events.subscribe(handler)
        self.addCleanup(events.unsubscribe, handler)
        deal = self.make_deal(stage=self.stages["negotiation"])
        with self.captureOnCommitCallbacks(execute=True):
            services.request_approval(actor=self.rep, deal=deal, note="请批")
        self.assertIn(
            ("approval.requested", {"deal_id": deal.pk, "actor_id": self.rep.pk, "note": "请批"}),
            heard,
        )


class OwnDealOverrideTests(LoudouTestCase):
    """Found in review: a manager could not approve their own deal but could override the
    approval criterion on it."""

    def test_a_manager_cannot_override_the_approval_of_their_own_deal(self):
        from loudou.core.testing import ready_to_leave

        deal = self.make_deal(owner=self.manager, stage=self.stages["negotiation"])
        deal = ready_to_leave(deal, self.manager)  # everything but the approval
        with self.assertRaises(NotAllowed):
            services.win_deal(actor=self.manager, deal=deal, override_reason="trust me")
        services.win_deal(actor=self.admin, deal=deal, override_reason="admin decides")
