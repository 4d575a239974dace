"""Optimistic locking: a stale version never overwrites someone else's change."""

from loudou.core.errors import Conflict, InvalidInput
from loudou.core.testing import LoudouTestCase
from loudou.deals import services
from loudou.deals.models import Deal


class OptimisticLockingTests(LoudouTestCase):
    def test_stale_update_is_refused_and_changes_nothing(self):
        deal = self.make_deal(name="原名")
        alice_copy = Deal.objects.get(pk=deal.pk)
        bob_copy = Deal.objects.get(pk=deal.pk)
        services.update_deal(
            actor=self.rep, deal=alice_copy, expected_version=1, changes={"name": "Alice"}
        )
        with self.assertRaises(Conflict):
            services.update_deal(
                actor=self.manager, deal=bob_copy, expected_version=1, changes={"amount": "1"}
            )
        deal.refresh_from_db()
        self.assertEqual(deal.name, "Alice")
        self.assertEqual(deal.amount, 10000)
        self.assertEqual(deal.version, 2)

    def test_moves_bump_the_version(self):
        deal = self.make_deal(stage=self.stages["proposal"])
        services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"])
        self.assertEqual(deal.version, 2)
        with self.assertRaises(Conflict):
            services.update_deal(
                actor=self.rep, deal=deal, expected_version=1, changes={"name": "x"}
            )

    def test_move_with_stale_expected_version(self):
        deal = self.make_deal(stage=self.stages["proposal"])
        services.update_deal(actor=self.rep, deal=deal, expected_version=1, changes={"name": "y"})
        with self.assertRaises(Conflict):
            services.move_deal(
                actor=self.rep, deal=deal, to_stage=self.stages["needs"], expected_version=1
            )
        deal.refresh_from_db()
        self.assertEqual(deal.stage.key, "proposal")

    def test_update_validation(self):
        deal = self.make_deal()
        bad = [
            {"name": "  "},
            {"amount": "-1"},
            {"amount": "lots"},
            {"currency": "RMBX"},
            {"custom": {"unknown": 1}},
            {"custom": {"budget": "many"}},
            {"forecast_category": "maybe"},
            {"stage": self.stages["won"]},
            {"status": "won"},
        ]
        for changes in bad:
            with self.subTest(changes=changes), self.assertRaises(InvalidInput):
                services.update_deal(actor=self.rep, deal=deal, expected_version=1, changes=changes)
        deal.refresh_from_db()
        self.assertEqual(deal.version, 1)

    def test_custom_fields_merge_and_remove(self):
        deal = self.make_deal(custom={"budget": "120000.5"})
        self.assertEqual(deal.custom, {"budget": 120000.5})
        deal = services.update_deal(
            actor=self.rep,
            deal=deal,
            expected_version=deal.version,
            changes={"custom": {"decision_maker": "张总", "budget": None}},
        )
        self.assertEqual(deal.custom, {"decision_maker": "张总"})

    def test_forecast_category_override(self):
        deal = self.make_deal(stage=self.stages["needs"])
        self.assertEqual(deal.effective_forecast_category, "pipeline")
        deal = services.update_deal(
            actor=self.rep, deal=deal, expected_version=1, changes={"forecast_category": "commit"}
        )
        self.assertEqual(deal.effective_forecast_category, "commit")
