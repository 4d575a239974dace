"""Files without any date: the creation time is unknown, yet a re-import creates no
duplicate (docs/spreadsheets.md promises it)."""

from loudou.deals import services
from loudou.deals.models import Deal, StageEvent

from .base import SheetTestCase


class UndatedReimportTests(SheetTestCase):
    def test_a_reimport_without_created_at_creates_no_duplicate(self):
        path = self.csv("name,owner,account,amount\nNoDate,rep,华为技术,1000\n")
        first = self.run_import(path)
        again = self.run_import(path)
        self.assertEqual((first.created, again.created, again.unchanged), (1, 0, 1))
        self.assertEqual(Deal.objects.filter(name="NoDate").count(), 1)
        self.assertEqual(StageEvent.objects.count(), 1)

    def test_same_named_rows_are_distinct_deals_and_stay_so(self):
        path = self.csv("name,owner,account\nRenewal,rep,Acme\nRenewal,rep,Acme\n")
        self.assertEqual(self.run_import(path).created, 2)
        again = self.run_import(path)
        self.assertEqual((again.created, again.unchanged), (0, 2))
        self.assertEqual(Deal.objects.count(), 2)

    def test_a_changed_stage_moves_the_deal_now(self):
        self.run_import(self.csv("name,owner,stage,amount\nMover,rep,contact,5\n"))
        summary = self.run_import(self.csv("name,owner,stage,amount\nMover,rep,needs,7\n", "2.csv"))
        self.assertEqual((summary.updated, summary.events_added), (1, 1))
        deal = Deal.objects.get()
        self.assertEqual((deal.stage.key, str(deal.amount)), ("needs", "7.00"))
        move = StageEvent.objects.filter(deal=deal).latest("id")
        self.assertTrue(move.imported)
        self.assertEqual(move.from_stage.key, "contact")

    def test_a_file_without_a_stage_never_moves_a_deal(self):
        path = self.csv("name,owner\nQuiet,rep\n")
        self.run_import(path)
        deal = Deal.objects.get()
        services.lose_deal(actor=self.rep, deal=deal, reason=self.price)
        summary = self.run_import(path)
        self.assertEqual(summary.events_added, 0)
        deal.refresh_from_db()
        self.assertEqual(deal.status, "lost")
