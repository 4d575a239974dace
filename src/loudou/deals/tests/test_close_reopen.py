"""Winning, losing (reason required) and reopening deals."""

from loudou.core.errors import InvalidInput
from loudou.core.testing import LoudouTestCase, ago, ready_to_leave
from loudou.deals import services
from loudou.deals.models import StageEvent


class CloseReopenTests(LoudouTestCase):
    def test_win_sets_status_and_event(self):
        deal = self.make_deal(stage=self.stages["negotiation"], at=ago(3))
        services.approve_stage_exit(actor=self.manager, deal=deal, at=ago(2))
        result = services.win_deal(actor=self.rep, deal=deal, at=ago(1))
        self.assertEqual(deal.status, "won")
        self.assertEqual(deal.stage.key, "won")
        self.assertEqual(deal.closed_at, result.event.at)
        self.assertEqual(result.event.from_stage.key, "negotiation")
        self.assertEqual(deal.effective_forecast_category, "closed")

    def test_lose_requires_reason_and_records_from_stage(self):
        deal = self.make_deal(stage=self.stages["proposal"])
        with self.assertRaises(InvalidInput) as ctx:
            services.lose_deal(actor=self.rep, deal=deal, reason=None)
        self.assertIn("lost_reason", ctx.exception.errors)
        deal.refresh_from_db()
        self.assertEqual(deal.status, "open")
        event = services.lose_deal(actor=self.rep, deal=deal, reason=self.price, note="太贵")
        self.assertEqual(event.from_stage.key, "proposal")
        self.assertEqual(event.to_stage.key, "lost")
        self.assertEqual(deal.status, "lost")
        self.assertEqual(deal.lost_reason, self.price)
        self.assertEqual(deal.lost_note, "太贵")
        self.assertIsNotNone(deal.closed_at)

    def test_losing_needs_no_exit_criteria(self):
        deal = self.make_deal()
        services.lose_deal(actor=self.rep, deal=deal, reason=self.price)
        self.assertEqual(deal.status, "lost")

    def test_cannot_close_twice(self):
        deal = self.make_deal()
        services.lose_deal(actor=self.rep, deal=deal, reason=self.price)
        with self.assertRaises(InvalidInput):
            services.lose_deal(actor=self.rep, deal=deal, reason=self.price)
        with self.assertRaises(InvalidInput):
            services.win_deal(actor=self.admin, deal=deal, override_reason="x")
        with self.assertRaises(InvalidInput):
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"])

    def test_reopen_lost_returns_to_stage_it_was_lost_from(self):
        deal = self.make_deal(stage=self.stages["proposal"])
        services.lose_deal(actor=self.rep, deal=deal, reason=self.price)
        event = services.reopen_deal(actor=self.rep, deal=deal)
        self.assertEqual(event.from_stage.key, "lost")
        self.assertEqual(event.to_stage.key, "proposal")
        self.assertEqual(deal.status, "open")
        self.assertIsNone(deal.closed_at)
        self.assertIsNone(deal.lost_reason)
        self.assertEqual(deal.lost_note, "")

    def test_reopen_won_into_chosen_stage(self):
        deal = self.make_deal(stage=self.stages["negotiation"])
        services.win_deal(actor=self.admin, deal=deal, override_reason="paper contract")
        event = services.reopen_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"])
        self.assertEqual(event.from_stage.key, "won")
        self.assertEqual(deal.stage.key, "needs")
        self.assertEqual(deal.status, "open")

    def test_reopen_open_deal_fails(self):
        deal = self.make_deal()
        with self.assertRaises(InvalidInput):
            services.reopen_deal(actor=self.rep, deal=deal)

    def test_won_deal_with_payments_stays_won(self):
        deal = self.make_deal()
        services.win_deal(actor=self.admin, deal=deal, override_reason="x")
        services.record_payment(
            actor=self.rep, deal=deal, amount="100", paid_on=deal.closed_at.date()
        )
        with self.assertRaises(InvalidInput):
            services.reopen_deal(actor=self.rep, deal=deal)

    def test_full_happy_path(self):
        deal = self.make_deal()
        ready_to_leave(deal, self.rep)
        for key in ("needs", "proposal", "negotiation"):
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages[key])
        services.approve_stage_exit(actor=self.manager, deal=deal)
        services.win_deal(actor=self.rep, deal=deal)
        keys = [
            (e.from_stage.key if e.from_stage else None, e.to_stage.key)
            for e in StageEvent.objects.filter(deal=deal).select_related("from_stage", "to_stage")
        ]
        self.assertEqual(
            keys,
            [
                (None, "contact"),
                ("contact", "needs"),
                ("needs", "proposal"),
                ("proposal", "negotiation"),
                ("negotiation", "won"),
            ],
        )
