"""Imported history obeys the rules of every path: a legal history, append-only, a won
deal with payments stays won; and its events are marked imported, not forced."""

from loudou.deals import services
from loudou.deals.models import Deal, StageEvent
from loudou.spreadsheets.history import import_history
from loudou.spreadsheets.results import ImportFailed

from .base import SheetTestCase


class HistoryRulesTests(SheetTestCase):
    def won_with_payment(self) -> Deal:
        self.run_import(
            self.csv(
                "external_id,name,owner,created_at,closed_at,status\n"
                "W1,Won,rep,2024-01-01,2024-02-01,won\n"
            )
        )
        deal = Deal.objects.get(external_id="W1")
        services.record_payment(
            actor=self.rep, deal=deal, amount="100", paid_on=deal.closed_at.date()
        )
        return deal

    def test_a_won_deal_with_payments_is_not_reopened_by_a_history_import(self):
        deal = self.won_with_payment()
        history = self.csv(
            "external_id,stage,changed_at\n"
            "W1,contact,2024-01-01\n"
            "W1,won,2024-02-01\n"
            "W1,needs,2024-03-01\n",
            "history.csv",
        )
        with self.assertRaises(ImportFailed) as ctx:
            import_history(path=history, lang="en")
        [error] = ctx.exception.summary.errors
        self.assertIn("Payments are recorded on this deal", error.en)
        self.assertIn("回款", error.zh)
        deal.refresh_from_db()
        self.assertEqual(deal.status, "won")
        self.assertEqual(StageEvent.objects.filter(deal=deal).count(), 2)

    def test_nor_by_a_deals_import(self):
        deal = self.won_with_payment()
        summary = self.failing(
            self.csv(
                "external_id,name,owner,created_at,entered_needs,status\n"
                "W1,Won,rep,2024-01-01,2024-03-01,open\n",
                "again.csv",
            )
        )
        self.assertEqual(len(summary.errors), 1)
        deal.refresh_from_db()
        self.assertEqual(deal.status, "won")

    def test_imported_events_are_marked_and_not_forced(self):
        self.run_import(
            self.csv(
                "external_id,name,owner,created_at,entered_needs,entered_proposal\n"
                "M1,Mark,rep,2024-01-01,2024-01-01,2024-01-05\n"
            )
        )
        events = StageEvent.objects.filter(deal__external_id="M1")
        self.assertEqual(events.count(), 2)
        self.assertTrue(all(e.imported and not e.is_override for e in events))
        deal = services.create_deal(actor=self.rep, name="In the app")
        self.assertFalse(StageEvent.objects.get(deal=deal).imported)

    def test_the_deal_page_tells_imported_history_apart(self):
        self.run_import(self.csv("external_id,name,owner,created_at\nP1,Page,rep,2024-01-01\n"))
        deal = Deal.objects.get(external_id="P1")
        self.client.force_login(self.rep)
        page = self.client.get(f"/deals/{deal.pk}/", headers={"accept-language": "en"})
        self.assertContains(page, "history from another system")
        self.assertContains(page, ">imported<")
