"""Archived stages and pipelines on the import paths (``deals.rules.archived_end`` and
``new_deal_problem``, asked by ``deals.bulk``): a history may pass through an archived
stage, but no imported deal may now be in one it was not in already, and an archived
pipeline takes no new deals. Refused rows are named (row, column, value), and nothing
of the import is kept."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from loudou.deals.models import Deal, StageEvent
from loudou.jobs.testing import run_tasks
from loudou.pipelines import services as config
from loudou.pipelines.models import Pipeline, Stage
from loudou.spreadsheets import services as import_services
from loudou.spreadsheets.models import ImportJob
from loudou.spreadsheets.services import import_history

from .base import SheetTestCase

HEADER = "external_id,name,owner,stage,created_at,entered_needs,entered_proposal\n"
THROUGH = "A1,Through,rep,proposal,2024-01-01,2024-01-02,2024-01-03\n"  # passes needs
INTO = "A2,Into,rep,needs,2024-01-01,2024-01-02,\n"  # stays in needs


class ArchivedStageImportTests(SheetTestCase):
    def archive(self, key: str) -> None:
        Stage.objects.filter(pk=self.stages[key].pk).update(archived=True)

    def test_a_deal_now_in_an_archived_stage_is_refused_history_through_it_is_not(self):
        self.archive("needs")
        for fast in (True, False):  # the vectorised path and the row-by-row one
            import_services.FAST = fast
            try:
                summary = self.failing(self.csv(HEADER + THROUGH + INTO))
            finally:
                import_services.FAST = True
            [problem] = summary.errors
            self.assertEqual((problem.row, problem.column), (3, "stage"))
            self.assertIn("needs", problem.value.lower())
            self.assertIn("archived", problem.en)
            self.assertIn("已归档", problem.zh)
            self.assertFalse(Deal.objects.exists())  # not even the good row
        summary = self.run_import(self.csv(HEADER + THROUGH))
        deal = Deal.objects.get(external_id="A1")
        keys = [e.to_stage.key for e in StageEvent.objects.filter(deal=deal).order_by("at")]
        self.assertEqual(keys, ["needs", "proposal"])  # created in it, then on

    def test_the_dry_run_refuses_it_too(self):
        self.archive("needs")
        summary = self.failing(self.csv(HEADER + INTO), dry_run=True)
        self.assertEqual([(e.row, e.column) for e in summary.errors], [(2, "stage")])

    def test_a_deal_already_in_the_stage_may_stay_but_none_may_enter_it(self):
        self.run_import(self.csv(HEADER + INTO))
        header = "external_id,name,owner,stage,created_at,entered_contact,entered_needs\n"
        self.run_import(self.csv(header + "A3,Later,rep,contact,2024-01-01,2024-01-01,\n"))
        self.archive("needs")
        again = self.run_import(self.csv(HEADER + INTO))  # recorded already: it stays
        self.assertEqual((again.unchanged, again.events_added), (1, 0))
        later = "A3,Later,rep,needs,2024-01-01,2024-01-01,2024-01-05\n"
        summary = self.failing(self.csv(header + later))
        self.assertEqual([(e.row, e.column) for e in summary.errors], [(2, "stage")])
        self.assertEqual(Deal.objects.get(external_id="A3").stage.key, "contact")

    def test_a_history_file_may_not_move_a_deal_into_an_archived_stage(self):
        self.run_import(self.csv(HEADER + "H1,History,rep,contact,2024-01-01,,\n"))
        self.archive("proposal")
        path = self.csv(
            "external_id,stage,changed_at\nH1,contact,2024-01-01\nH1,proposal,2024-01-05\n",
            name="history.csv",
        )
        with self.assertRaises(import_services.ImportFailed) as ctx:
            import_history(path=path)
        self.assertEqual([e.column for e in ctx.exception.summary.errors], ["stage"])
        self.assertEqual(StageEvent.objects.filter(deal__external_id="H1").count(), 1)

    def test_an_archived_pipeline_takes_no_new_deals(self):
        renewals = config.create_pipeline(
            actor=self.admin, key="renewals", name_zh="续约", name_en="Renewals"
        )
        Pipeline.objects.filter(pk=renewals.pk).update(archived=True)
        summary = self.failing(
            self.csv("name,owner,pipeline,created_at\nOld,rep,renewals,2024-01-01\n")
        )
        [problem] = summary.errors
        self.assertEqual((problem.row, problem.column, problem.value), (2, "pipeline", "renewals"))
        self.assertIn("archived", problem.en)

    def test_the_import_page_names_the_row_column_and_value(self):
        self.archive("needs")
        self.client.force_login(self.manager)
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                "/import/", {"file": SimpleUploadedFile("deals.csv", (HEADER + INTO).encode())}
            )
        run_tasks()
        job = ImportJob.objects.latest("id")
        [(row, column, value, zh, en)] = job.errors
        self.assertEqual((row, column), (2, "stage"))
        self.assertIn("Needs", value)
        self.assertIn("已归档", zh)
        self.assertIn("archived", en)
        page = self.client.get(f"/import/{job.token}/", headers={"accept-language": "en"})
        self.assertContains(page, "no deal may be in it now")
        self.assertFalse(job.can_confirm)

    def test_the_command_line_names_the_row_column_and_value(self):
        self.archive("needs")
        out, err = io.StringIO(), io.StringIO()
        with self.assertRaises(CommandError):
            call_command(
                "import", "deals", str(self.csv(HEADER + INTO)), "--lang", "en",
                stdout=out, stderr=err,
            )  # fmt: skip
        self.assertIn("row 2, stage «", err.getvalue())
        self.assertIn("is archived", err.getvalue())
        self.assertFalse(Deal.objects.exists())
