"""Moving deals through stages: exit criteria of every kind, skips, backward moves, overrides."""

from decimal import Decimal

from django.core.files.base import ContentFile

from loudou.activities.services import log_activity
from loudou.core.errors import InvalidInput, NotAllowed
from loudou.core.testing import LoudouTestCase, ago
from loudou.deals import services
from loudou.deals.models import StageEvent
from loudou.deals.services import CriteriaNotMet
from loudou.pipelines.models import CustomField, ExitCriterion


class MoveCriteriaTests(LoudouTestCase):
    def test_contact_stage_needs_an_activity(self):
        deal = self.make_deal()
        with self.assertRaises(CriteriaNotMet) as ctx:
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"])
        [unmet] = ctx.exception.unmet
        self.assertEqual(unmet.kind, "activity")
        self.assertEqual(unmet.stage_key, "contact")
        self.assertIn("初步接洽", unmet.message_zh)
        self.assertIn("Initial contact", unmet.message_en)
        deal.refresh_from_db()
        self.assertEqual(deal.stage.key, "contact")
        self.assertEqual(deal.version, 1)
        self.assertEqual(StageEvent.objects.filter(deal=deal).count(), 1)

        log_activity(actor=self.rep, deal=deal, type="call")
        result = services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"])
        self.assertEqual(result.event.to_stage.key, "needs")
        self.assertEqual(result.overridden, [])
        self.assertEqual(deal.stage.key, "needs")
        self.assertEqual(deal.version, 2)

    def test_activities_before_entering_the_stage_do_not_count(self):
        deal = self.make_deal(at=ago(10))
        log_activity(actor=self.rep, deal=deal, type="call", at=ago(9))
        services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"], at=ago(8))
        services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["contact"], at=ago(7))
        with self.assertRaises(CriteriaNotMet):
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"])

    def test_activity_of_a_type_and_count(self):
        ExitCriterion.objects.filter(stage=self.stages["contact"]).update(
            activity_type="visit", min_count=2
        )
        deal = self.make_deal()
        log_activity(actor=self.rep, deal=deal, type="call")
        log_activity(actor=self.rep, deal=deal, type="visit")
        with self.assertRaises(CriteriaNotMet) as ctx:
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"])
        self.assertIn("there are 1", ctx.exception.unmet[0].message_en)
        self.assertIn("Visit", ctx.exception.unmet[0].message_en)
        log_activity(actor=self.rep, deal=deal, type="visit")
        services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"])

    def test_field_filled_custom_fields(self):
        deal = self.make_deal(stage=self.stages["needs"])
        with self.assertRaises(CriteriaNotMet) as ctx:
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["proposal"])
        self.assertEqual(len(ctx.exception.unmet), 2)
        self.assertIn("预算", ctx.exception.unmet[0].message_zh)
        self.assertIn("Decision maker", ctx.exception.unmet[1].message_en)
        services.update_deal(
            actor=self.rep,
            deal=deal,
            expected_version=deal.version,
            changes={"custom": {"budget": 5, "decision_maker": "李总"}},
        )
        services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["proposal"])

    def test_field_true_and_at_least(self):
        CustomField.objects.create(key="nda", name_zh="保密协议", name_en="NDA", type="boolean")
        ExitCriterion.objects.filter(stage=self.stages["needs"]).delete()
        ExitCriterion.objects.create(
            stage=self.stages["needs"], kind="field", field_name="custom.nda", field_check="true"
        )
        ExitCriterion.objects.create(
            stage=self.stages["needs"],
            kind="field",
            field_name="amount",
            field_check="at_least",
            min_value=Decimal("1000"),
        )
        deal = self.make_deal(stage=self.stages["needs"], amount="999.99")
        with self.assertRaises(CriteriaNotMet) as ctx:
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["proposal"])
        messages = [u.message_en for u in ctx.exception.unmet]
        self.assertEqual(len(messages), 2)
        self.assertIn("“NDA” must be yes", messages[0])
        self.assertIn("at least 1000", messages[1])
        deal = services.update_deal(
            actor=self.rep,
            deal=deal,
            expected_version=deal.version,
            changes={"custom": {"nda": False}, "amount": 1000},
        )
        with self.assertRaises(CriteriaNotMet) as ctx:
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["proposal"])
        self.assertEqual([u.kind for u in ctx.exception.unmet], ["field"])
        services.update_deal(
            actor=self.rep,
            deal=deal,
            expected_version=deal.version,
            changes={"custom": {"nda": True}},
        )
        services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["proposal"])

    def test_attachment_and_amount_for_proposal(self):
        deal = self.make_deal(stage=self.stages["proposal"], amount=None)
        with self.assertRaises(CriteriaNotMet) as ctx:
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["negotiation"])
        kinds = [u.kind for u in ctx.exception.unmet]
        self.assertEqual(kinds, ["attachment", "field"])
        self.assertIn("报价", ctx.exception.unmet[0].message_zh)
        self.assertIn("more than zero", ctx.exception.unmet[1].message_en)
        services.attach_file(
            actor=self.rep, deal=deal, kind="contract", file=ContentFile(b"x", name="c.pdf")
        )
        with self.assertRaises(CriteriaNotMet):
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["negotiation"])
        services.attach_file(
            actor=self.rep, deal=deal, kind="quote", file=ContentFile(b"x", name="q.pdf")
        )
        deal = services.update_deal(
            actor=self.rep, deal=deal, expected_version=deal.version, changes={"amount": "1"}
        )
        services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["negotiation"])

    def test_approval_to_win_from_negotiation(self):
        deal = self.make_deal(stage=self.stages["negotiation"])
        with self.assertRaises(CriteriaNotMet) as ctx:
            services.win_deal(actor=self.rep, deal=deal)
        self.assertEqual([u.kind for u in ctx.exception.unmet], ["approval"])
        services.approve_stage_exit(actor=self.manager, deal=deal, note="ok")
        services.win_deal(actor=self.rep, deal=deal)
        self.assertEqual(deal.status, "won")

    def test_approval_is_for_the_current_stay_only(self):
        deal = self.make_deal(stage=self.stages["negotiation"], at=ago(5))
        services.approve_stage_exit(actor=self.manager, deal=deal, at=ago(4))
        services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["proposal"], at=ago(3))
        services.move_deal(
            actor=self.manager,
            deal=deal,
            to_stage=self.stages["negotiation"],
            override_reason="customer came back",
            at=ago(2),
        )
        with self.assertRaises(CriteriaNotMet):
            services.win_deal(actor=self.rep, deal=deal)

    def test_skipping_stages_checks_every_stage_passed(self):
        deal = self.make_deal(amount=None)
        with self.assertRaises(CriteriaNotMet) as ctx:
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["negotiation"])
        stages = [u.stage_key for u in ctx.exception.unmet]
        self.assertEqual(stages, ["contact", "needs", "needs", "proposal", "proposal"])
        with self.assertRaises(CriteriaNotMet) as ctx:
            services.win_deal(actor=self.rep, deal=deal)
        self.assertEqual(ctx.exception.unmet[-1].stage_key, "negotiation")
        self.assertEqual(len(ctx.exception.unmet), 6)

    def test_backward_moves_need_no_criteria_and_are_recorded(self):
        deal = self.make_deal(stage=self.stages["proposal"])
        result = services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["contact"])
        self.assertEqual(result.event.from_stage.key, "proposal")
        self.assertEqual(result.event.to_stage.key, "contact")
        self.assertEqual(deal.stage.key, "contact")

    def test_rep_cannot_override(self):
        deal = self.make_deal()
        with self.assertRaises(NotAllowed):
            services.move_deal(
                actor=self.rep,
                deal=deal,
                to_stage=self.stages["needs"],
                override_reason="trust me",
            )
        self.assertEqual(StageEvent.objects.filter(deal=deal).count(), 1)

    def test_manager_override_is_recorded(self):
        deal = self.make_deal()
        result = services.move_deal(
            actor=self.manager,
            deal=deal,
            to_stage=self.stages["proposal"],
            override_reason="  客户直接要报价  ",
        )
        event = result.event
        self.assertTrue(event.is_override)
        self.assertEqual(event.override_reason, "客户直接要报价")
        self.assertEqual(event.by, self.manager)
        self.assertEqual(len(event.overridden), 3)
        self.assertEqual(event.overridden[0]["kind"], "activity")
        self.assertIn("message_zh", event.overridden[0])

    def test_override_without_reason_fails(self):
        deal = self.make_deal()
        with self.assertRaises(CriteriaNotMet):
            services.move_deal(
                actor=self.manager, deal=deal, to_stage=self.stages["needs"], override_reason="  "
            )

    def test_override_reason_ignored_when_criteria_met(self):
        deal = self.make_deal()
        log_activity(actor=self.rep, deal=deal, type="call")
        result = services.move_deal(
            actor=self.manager, deal=deal, to_stage=self.stages["needs"], override_reason="x"
        )
        self.assertFalse(result.event.is_override)
        self.assertEqual(result.event.overridden, [])

    def test_admin_override_on_win(self):
        deal = self.make_deal()  # has an amount: every other default criterion is unmet
        result = services.win_deal(actor=self.admin, deal=deal, override_reason="signed on paper")
        self.assertEqual(len(result.overridden), 5)
        self.assertEqual(deal.status, "won")

    def test_invalid_targets(self):
        deal = self.make_deal()
        with self.assertRaises(InvalidInput):
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["contact"])
        with self.assertRaises(InvalidInput):
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["won"])
        with self.assertRaises(InvalidInput):
            services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["lost"])

    def test_check_move_changes_nothing(self):
        deal = self.make_deal()
        unmet = services.check_move(deal=deal, to_stage=self.stages["needs"])
        self.assertEqual(len(unmet), 1)
        self.assertEqual(services.check_move(deal=deal, to_stage=self.stages["lost"]), [])
        deal.refresh_from_db()
        self.assertEqual(deal.version, 1)

    def test_unmet_message_follows_active_language(self):
        from django.utils import translation

        deal = self.make_deal()
        [unmet] = services.check_move(deal=deal, to_stage=self.stages["needs"])
        with translation.override("en"):
            self.assertEqual(unmet.message, unmet.message_en)
        with translation.override("zh-hans"):
            self.assertEqual(unmet.message, unmet.message_zh)
        self.assertNotEqual(unmet.message_zh, unmet.message_en)
