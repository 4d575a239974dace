"""Errors, all-or-nothing, dry run, idempotency, owners and teams."""

from loudou.deals.models import Deal, StageEvent
from loudou.people.models import Team, User
from loudou.spreadsheets.services import import_history

from .base import SheetTestCase

HEADER = "external_id,name,owner,stage,created_at,entered_needs,entered_proposal,closed_at,status\n"


class ErrorTests(SheetTestCase):
    def test_every_bad_row_is_reported_and_nothing_is_kept(self):
        path = self.csv(
            HEADER
            + "G1,Good,rep,needs,2024-01-01,2024-01-02,,,\n"
            + "B1,,rep,,2024-01-01,,,,\n"  # no name
            + "B2,Dates,rep,needs,2024-01-05,2024-01-02,,,\n"  # entered before created
            + "B3,Close,rep,,2024-01-05,,,2024-01-01,lost\n"  # closed before created
            + "B4,Who,nobody,,2024-01-05,,,,\n"  # unknown owner
            + "B5,Stage,rep,dreaming,2024-01-05,,,,\n"  # unknown stage
            + "B6,Status,rep,,2024-01-05,,,,maybe\n"  # bad status
            + "B7,When,rep,,yesterday,,,,\n"  # bad date
            + "B8,Open,rep,,2024-01-05,,,2024-02-01,open\n"  # open with a close date
            + "B9,Mismatch,rep,contact,2024-01-05,2024-01-06,,,\n"  # stage != last entered
        )
        summary = self.failing(path)
        self.assertEqual([e.row for e in summary.errors], [3, 4, 5, 6, 7, 8, 9, 10, 11])
        columns = {e.row: e.column for e in summary.errors}
        self.assertEqual(columns[3], "name")
        self.assertEqual(columns[4], "entered_needs")
        self.assertEqual(columns[6], "owner")
        self.assertEqual(columns[9], "created_at")
        for error in summary.errors:
            self.assertTrue(error.zh and error.en, error)
        self.assertFalse(Deal.objects.exists())  # not even the good row
        lines = summary.errors_file.read_text(encoding="utf-8-sig").splitlines()
        self.assertEqual(len(lines), 1 + len(summary.errors))

    def test_errors_file_in_english(self):
        summary = self.failing(self.csv("name,owner\n,rep\n"), lang="en")
        text = summary.errors_file.read_text(encoding="utf-8-sig")
        self.assertIn("row,column,value,reason", text)
        self.assertIn("a deal needs a name", text)

    def test_file_level_errors(self):
        summary = self.failing(self.csv("owner,entered_dreaming\nrep,2024-01-01\n"))
        self.assertEqual({e.row for e in summary.errors}, {1})
        self.assertEqual(len(summary.errors), 2)  # no name column; unknown stage column

    def test_dry_run_changes_nothing(self):
        summary = self.run_import(
            self.csv(HEADER + "D1,Dry,rep,needs,2024-01-01,2024-01-02,,,\n"), dry_run=True
        )
        self.assertEqual((summary.created, summary.events_added), (1, 1))
        self.assertFalse(Deal.objects.exists())


class IdempotencyTests(SheetTestCase):
    def test_reimport_updates_without_duplicates(self):
        path = self.csv(HEADER + "I1,Same,rep,needs,2024-01-01,2024-01-02,,,\n")
        self.run_import(path)
        again = self.run_import(path)
        self.assertEqual((again.created, again.unchanged, again.events_added), (0, 1, 0))
        self.assertEqual(Deal.objects.count(), 1)
        self.assertEqual(StageEvent.objects.count(), 1)

    def test_reimport_extends_the_history(self):
        self.run_import(self.csv(HEADER + "I1,Grow,rep,needs,2024-01-01,2024-01-02,,,\n"))
        later = self.csv(
            HEADER + "I1,Grown,rep,,2024-01-01,2024-01-02,2024-01-09,2024-02-01,won\n", "later.csv"
        )
        summary = self.run_import(later)
        self.assertEqual((summary.updated, summary.events_added), (1, 2))
        deal = Deal.objects.get(external_id="I1")
        self.assertEqual((deal.name, deal.status, deal.version), ("Grown", "won", 2))
        self.assertEqual(StageEvent.objects.filter(deal=deal).count(), 3)

    def test_a_rewritten_history_is_refused(self):
        self.run_import(self.csv(HEADER + "I1,X,rep,,2024-01-01,2024-01-02,2024-01-05,,\n"))
        other = self.csv(HEADER + "I1,X,rep,,2024-01-01,2024-01-02,2024-01-06,,\n", "other.csv")
        summary = self.failing(other)
        self.assertIn("can only be added", summary.errors[0].en)

    def test_rows_without_external_id_match_by_name_account_and_creation(self):
        path = self.csv("name,owner,account,created_at\nNoId,rep,华为技术,2024-01-01\n")
        self.run_import(path)
        self.run_import(path)
        self.assertEqual(Deal.objects.filter(name="NoId").count(), 1)


class OwnerTests(SheetTestCase):
    def test_owner_matched_by_email_or_created_on_request(self):
        User.objects.filter(pk=self.teammate.pk).update(email="tm@example.com")
        self.run_import(self.csv("name,owner,created_at\nMail,TM@example.com,2024-01-01\n"))
        self.assertEqual(Deal.objects.get(name="Mail").owner, self.teammate)
        path = self.csv("name,owner,team,created_at\nNew,王五,华南,2024-01-01\n", "new.csv")
        self.failing(path)
        summary = self.run_import(path, create_owners=True)
        self.assertEqual((summary.owners_created, summary.teams_created), (1, 1))
        deal = Deal.objects.get(name="New")
        self.assertEqual((deal.owner.display_name, deal.team.name), ("王五", "华南"))
        self.assertEqual(deal.owner.team, Team.objects.get(name="华南"))
        self.assertFalse(deal.owner.has_usable_password())


class HistoryImportTests(SheetTestCase):
    def test_history_appends_to_existing_deals(self):
        self.run_import(self.csv("external_id,name,owner,created_at\nH1,Hist,rep,2024-01-01\n"))
        history = self.csv(
            "external_id,stage,changed_at,changed_by\n"
            "H1,contact,2024-01-01,rep\n"
            "H1,proposal,2024-01-05,rep\n"
            "H1,needs,2024-01-08,manager\n"
            "H1,lost,2024-01-20,rep\n"
            "H1,needs,2024-02-01,rep\n",
            "history.csv",
        )
        summary = import_history(path=history)
        self.assertEqual(summary.events_added, 4)
        deal = Deal.objects.get(external_id="H1")
        self.assertEqual((deal.status, deal.stage.key), ("open", "needs"))
        events = list(StageEvent.objects.filter(deal=deal).select_related("to_stage", "by"))
        self.assertEqual(
            [e.to_stage.key for e in events], ["contact", "proposal", "needs", "lost", "needs"]
        )
        self.assertEqual(events[2].by, self.manager)
        again = import_history(path=history)  # idempotent
        self.assertEqual(again.events_added, 0)

    def test_unknown_deal_in_history(self):
        from loudou.spreadsheets.services import ImportFailed

        history = self.csv("external_id,stage,changed_at\nNOPE,contact,2024-01-01\n", "h.csv")
        with self.assertRaises(ImportFailed):
            import_history(path=history)
