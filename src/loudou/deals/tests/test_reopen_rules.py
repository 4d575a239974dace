"""Reopening: back to the stage a deal closed from or an earlier one freely; further only
as a forward move from that stage, with its criteria or a manager's recorded override."""

from loudou.activities.services import log_activity
from loudou.core.errors import InvalidInput, NotAllowed
from loudou.core.testing import LoudouTestCase, ago
from loudou.deals import services
from loudou.deals.models import StageEvent
from loudou.deals.rules import CriteriaNotMet


class ReopenRulesTests(LoudouTestCase):
    def lost_in_contact(self):
        deal = self.make_deal(at=ago(5))
        services.lose_deal(actor=self.rep, deal=deal, reason=self.price, at=ago(4))
        return deal

    def test_reopening_into_a_later_stage_is_a_forward_move(self):
        deal = self.lost_in_contact()
        with self.assertRaises(CriteriaNotMet) as ctx:
            services.reopen_deal(actor=self.rep, deal=deal, to_stage=self.stages["negotiation"])
        # The criteria of the stage it closed from and of every stage skipped (the amount
        # is given: proposal's amount criterion is met).
        self.assertEqual(
            [(u.stage_key, u.kind) for u in ctx.exception.unmet],
            [
                ("contact", "activity"),
                ("needs", "field"),
                ("needs", "field"),
                ("proposal", "attachment"),
            ],
        )
        deal.refresh_from_db()
        self.assertEqual((deal.status, deal.stage.key), ("lost", "lost"))
        self.assertEqual(StageEvent.objects.filter(deal=deal).count(), 2)

    def test_a_rep_cannot_override_a_reopen(self):
        deal = self.lost_in_contact()
        with self.assertRaises(NotAllowed):
            services.reopen_deal(
                actor=self.rep,
                deal=deal,
                to_stage=self.stages["negotiation"],
                override_reason="trust me",
            )
        deal.refresh_from_db()
        self.assertEqual(deal.status, "lost")

    def test_a_managers_override_is_recorded(self):
        deal = self.lost_in_contact()
        event = services.reopen_deal(
            actor=self.manager,
            deal=deal,
            to_stage=self.stages["negotiation"],
            override_reason="客户直接进入谈判",
        )
        self.assertEqual((event.from_stage.key, event.to_stage.key), ("lost", "negotiation"))
        self.assertEqual(event.override_reason, "客户直接进入谈判")
        self.assertEqual(len(event.overridden), 4)
        self.assertEqual((deal.status, deal.stage.key), ("open", "negotiation"))

    def test_back_to_the_closing_stage_or_earlier_needs_nothing(self):
        deal = self.make_deal(stage=self.stages["proposal"], at=ago(5))
        services.lose_deal(actor=self.rep, deal=deal, reason=self.price, at=ago(4))
        services.reopen_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"], at=ago(3))
        self.assertEqual(deal.stage.key, "needs")
        event = StageEvent.objects.filter(deal=deal).latest("id")
        self.assertEqual(event.override_reason, "")

    def test_the_stay_before_the_close_counts_for_the_criteria(self):
        deal = self.make_deal(at=ago(5))
        log_activity(actor=self.rep, deal=deal, type="call", at=ago(4))
        services.lose_deal(actor=self.rep, deal=deal, reason=self.price, at=ago(3))
        # Contact's criterion (one activity during the stay) was met before it was lost.
        services.reopen_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"])
        self.assertEqual((deal.status, deal.stage.key), ("open", "needs"))

    def test_a_won_deal_with_payments_cannot_be_reopened_even_by_an_admin(self):
        deal = self.make_deal()
        services.win_deal(actor=self.admin, deal=deal, override_reason="paper contract")
        services.record_payment(
            actor=self.rep, deal=deal, amount="100", paid_on=deal.closed_at.date()
        )
        with self.assertRaises(InvalidInput):
            services.reopen_deal(actor=self.admin, deal=deal, override_reason="x")


class ReopenPageTests(LoudouTestCase):
    def test_the_reopen_form_cannot_skip_the_criteria(self):
        deal = self.make_deal(at=ago(5))
        services.lose_deal(actor=self.rep, deal=deal, reason=self.price, at=ago(4))
        self.client.force_login(self.rep)
        page = self.client.get(f"/deals/{deal.pk}/", headers={"accept-language": "en"})
        self.assertContains(page, "a later stage needs the exit criteria")
        response = self.client.post(
            f"/deals/{deal.pk}/reopen/",
            {"stage": self.stages["negotiation"].pk, "version": deal.version},
            follow=True,
            headers={"accept-language": "en"},
        )
        self.assertContains(response, "does not meet the exit criteria")
        deal.refresh_from_db()
        self.assertEqual(deal.status, "lost")

    def test_a_manager_overrides_on_the_page(self):
        deal = self.make_deal(at=ago(5))
        services.lose_deal(actor=self.rep, deal=deal, reason=self.price, at=ago(4))
        self.client.force_login(self.manager)
        self.client.post(
            f"/deals/{deal.pk}/reopen/",
            {
                "stage": self.stages["negotiation"].pk,
                "override_reason": "签约前补流程",
                "version": deal.version,
            },
        )
        deal.refresh_from_db()
        self.assertEqual((deal.status, deal.stage.key), ("open", "negotiation"))
        page = self.client.get(f"/deals/{deal.pk}/")
        self.assertContains(page, "签约前补流程")
