"""An import changes only what the importing user may change: it never takes over, renames
or reassigns another team's deal, never says that one exists, and never plants a deal in
a team the user does not manage (CLI, web, per-row and vectorised paths)."""

import datetime as dt
from decimal import Decimal
from io import StringIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from loudou.core.testing import ago
from loudou.deals import services
from loudou.deals.models import Deal
from loudou.jobs.testing import run_tasks

from .base import SheetTestCase


class ImportScopeTests(SheetTestCase):
    def setUp(self):
        super().setUp()
        self.theirs = services.create_deal(
            actor=self.outsider,
            name="南方大单",
            amount=Decimal("500000"),
            external_id="EXT-1",
            at=ago(30),
        )
        self.theirs_created = self.theirs.created_at.isoformat()

    def assert_untouched(self):
        deal = Deal.objects.get(pk=self.theirs.pk)
        self.assertEqual(
            (deal.name, deal.amount, deal.owner, deal.team, deal.version),
            ("南方大单", Decimal("500000.00"), self.outsider, self.south, 1),
        )

    def test_an_external_id_of_another_team_is_refused_without_a_word_about_it(self):
        for created in ("2024-01-01", self.theirs_created):  # another or the same history
            path = self.csv(
                f"external_id,name,owner,amount,created_at\nEXT-1,Renamed,rep,1,{created}\n"
            )
            summary = self.failing(path, actor=self.manager, lang="en")
            [error] = summary.errors
            self.assertEqual(error.column, "external_id")
            for text in (error.en, error.zh):
                self.assertNotIn("南方大单", text)
                self.assertNotIn("history", text)
                self.assertNotIn("历史", text)
            self.assertIn("not available to you", error.en)
            self.assertIn("您不能使用这个外部编号", error.zh)
            self.assert_untouched()

    def test_an_admin_may_update_it(self):
        path = self.csv(
            f"external_id,name,owner,created_at\nEXT-1,Renamed,outsider,{self.theirs_created}\n"
        )
        summary = self.run_import(path, actor=self.admin)
        self.assertEqual(summary.updated, 1)
        self.assertEqual(Deal.objects.get(pk=self.theirs.pk).name, "Renamed")

    def test_name_matching_never_reaches_another_team(self):
        Deal.objects.filter(pk=self.theirs.pk).update(external_id=None)
        path = self.csv(f"name,owner,created_at\n南方大单,rep,{self.theirs_created}\n")
        summary = self.run_import(path, actor=self.manager)
        self.assertEqual((summary.created, summary.updated), (1, 0))
        mine = Deal.objects.exclude(pk=self.theirs.pk).get()
        self.assertEqual((mine.owner, mine.team), (self.rep, self.north))
        deal = Deal.objects.get(pk=self.theirs.pk)
        self.assertEqual((deal.owner, deal.version), (self.outsider, 1))

    def test_a_row_cannot_put_a_deal_in_another_team(self):
        summary = self.failing(
            self.csv("name,owner,team,created_at\nPlanted,rep,South,2024-01-01\n"),
            actor=self.manager,
            lang="en",
        )
        self.assertEqual([(e.row, e.column) for e in summary.errors], [(2, "team")])
        self.assertFalse(Deal.objects.filter(name="Planted").exists())

    def test_nor_by_the_vectorised_path(self):
        header = "external_id,name,owner,team,created_at\n"
        rows = "".join(
            f"V{i},Plain {i},rep,{'South' if i == 7 else 'North'},2024-01-0{1 + i % 9}T09:00:00\n"
            for i in range(30)
        )
        summary = self.failing(self.csv(header + rows), actor=self.manager, lang="en")
        self.assertEqual([(e.row, e.column) for e in summary.errors], [(9, "team")])
        self.assertEqual(Deal.objects.count(), 1)

    def test_an_admin_may_file_a_deal_in_another_team(self):
        self.run_import(
            self.csv("name,owner,team,created_at\nFiled,rep,South,2024-01-01\n"),
            actor=self.admin,
        )
        self.assertEqual(Deal.objects.get(name="Filed").team, self.south)

    def test_the_command_line_with_user_obeys_the_same_rules(self):
        path = self.csv("external_id,name,owner,created_at\nEXT-1,Renamed,rep,2024-01-01\n")
        err = StringIO()
        with self.assertRaises(CommandError):
            call_command(
                "import", "deals", str(path), "--user", "manager", "--lang", "en", stderr=err
            )
        self.assertIn("not available to you", err.getvalue())
        self.assertNotIn("南方大单", err.getvalue())
        self.assert_untouched()

    def test_the_web_preview_says_nothing_about_it(self):
        from loudou.spreadsheets.models import ImportJob

        self.client.force_login(self.manager)
        content = b"external_id,name,owner,created_at\nEXT-1,Renamed,rep,2024-01-01\n"
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post("/import/", {"file": SimpleUploadedFile("d.csv", content)})
        run_tasks()
        token = ImportJob.objects.get().token
        preview = self.client.get(f"/import/{token}/", headers={"accept-language": "en"})
        self.assertContains(preview, "not available to you")
        self.assertNotContains(preview, "南方大单")
        self.assertNotContains(preview, "differs")
        self.client.post(f"/import/{token}/confirm/")
        self.assert_untouched()

    def test_history_import_treats_it_as_unknown(self):
        from loudou.spreadsheets.history import import_history
        from loudou.spreadsheets.results import ImportFailed

        day = (dt.date.today() - dt.timedelta(days=1)).isoformat()
        path = self.csv(f"external_id,stage,changed_at\nEXT-1,needs,{day}\n", "h.csv")
        with self.assertRaises(ImportFailed) as ctx:
            import_history(path=path, actor=self.manager, lang="en")
        [error] = ctx.exception.summary.errors
        self.assertEqual(error.en, "no deal with this external_id")
        self.assert_untouched()
