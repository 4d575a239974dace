"""A migration and what is archived in Loudou: the preview refuses mapping a source stage
that holds open deals onto an archived stage (history may pass through one), never
proposes one by a guess, and refuses new deals into an archived pipeline; a re-run may
leave deals where an earlier run put them."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from loudou.deals.models import Deal, StageEvent
from loudou.jobs.testing import run_tasks
from loudou.pipelines import services as config
from loudou.pipelines.models import Pipeline, Stage
from loudou.spreadsheets.models import ImportJob
from loudou.spreadsheets.results import ImportFailed

from .test_migrate_salesforce import STAGES, SalesforceCase
from .test_migrate_web import export_zip


class ArchivedTargetTests(SalesforceCase):
    def archive(self, key: str) -> None:
        Stage.objects.filter(pk=self.stages[key].pk).update(archived=True)

    def test_a_stage_holding_open_deals_may_not_map_onto_an_archived_stage(self):
        self.archive("proposal")  # the open deal A3 is in Proposal/Price Quote
        summary = self.failing()
        [problem] = summary.errors
        self.assertEqual(
            (problem.row, problem.column, problem.value), (0, "stage", "Proposal/Price Quote")
        )  # a problem of a stage: no row
        self.assertIn("archived: 1 open deal would now be in it", problem.en)
        self.assertIn("(--stages FILE)", problem.en)
        self.assertIn("已归档", problem.zh)
        summary = self.failing(via="web")
        self.assertIn("in the “Loudou stage” column", summary.errors[0].en)
        self.assertNotIn("--", summary.errors[0].en + summary.errors[0].zh)

    def test_history_may_pass_through_an_archived_stage(self):
        self.archive("contact")  # Prospecting: only history, no deal is in it now
        summary = self.run_migration()
        self.assertEqual(summary.created, 3)
        won = Deal.objects.get(external_id="0061x00000A1")
        keys = [e.to_stage.key for e in StageEvent.objects.filter(deal=won).order_by("at", "id")]
        self.assertEqual(keys, ["contact", "needs", "proposal", "won"])

    def test_a_guess_never_proposes_an_archived_stage(self):
        self.archive("contact")
        summary = self.failing(stages=None)
        proposed = {s.label: s.target.key for s in summary.stages}
        self.assertEqual(proposed["Prospecting"], "needs")  # 10 %: the nearest one left

    def test_a_rerun_leaves_deals_where_the_first_run_put_them(self):
        self.run_migration()
        self.archive("proposal")
        again = self.run_migration()
        self.assertEqual((again.created, again.unchanged), (0, 3))
        self.assertEqual(Deal.objects.get(external_id="0061x00000A3").stage.key, "proposal")

    def test_an_archived_pipeline_takes_no_new_deals(self):
        renewals = config.create_pipeline(
            actor=self.admin, key="renewals", name_zh="续约", name_en="Renewals"
        )
        Pipeline.objects.filter(pk=renewals.pk).update(archived=True)
        summary = self.failing(pipeline="renewals", stages=dict.fromkeys(STAGES, "stage-1"))
        [problem] = summary.errors
        self.assertEqual((problem.column, problem.value), ("pipeline", "renewals"))
        self.assertIn("archived: it takes no new deals. 3 deals of the export are new.", problem.en)

    def test_a_mirror_archived_since_the_first_run_takes_no_new_deals(self):
        self.run_migration(mirror_pipeline="Salesforce", stages=None)
        Pipeline.objects.filter(key="salesforce").update(archived=True)
        self.edit("Opportunity.csv", '"0061x00000A4","true"', '"0061x00000A4","false"')
        with self.assertRaises(ImportFailed) as ctx:
            self.run_migration(mirror_pipeline="Salesforce", stages=None)
        [problem] = ctx.exception.summary.errors
        self.assertEqual((problem.column, problem.value), ("pipeline", "salesforce"))
        self.assertEqual(Deal.objects.count(), 3)
        self.assertFalse(Deal.objects.filter(external_id="0061x00000A4").exists())

    def test_the_command_line_preview_marks_archived_targets(self):
        self.archive("contact")
        out, err = io.StringIO(), io.StringIO()
        stages = self.dir / "stages.toml"
        stages.write_text("\n".join(f'"{k}" = "{v}"' for k, v in STAGES.items()))
        call_command(
            "import", "salesforce", str(self.export), "--dry-run", "--lang", "en",
            "--stages", str(stages), stdout=out, stderr=err,
        )  # fmt: skip
        self.assertIn("→ contact (archived)", out.getvalue())
        self.archive("proposal")
        with self.assertRaises(CommandError):
            call_command(
                "import", "salesforce", str(self.export), "--lang", "en",
                "--stages", str(stages), stdout=out, stderr=err,
            )  # fmt: skip
        self.assertIn("\nstage «Proposal/Price Quote»", "\n" + err.getvalue())


class ArchivedOnTheImportPageTests(SalesforceCase):
    def test_archived_pipelines_are_not_offered_archived_stages_are_marked(self):
        renewals = config.create_pipeline(
            actor=self.admin, key="renewals", name_zh="续约", name_en="Renewals"
        )
        Pipeline.objects.filter(pk=renewals.pk).update(archived=True)
        Stage.objects.filter(pk=self.stages["contact"].pk).update(archived=True)
        self.client.force_login(self.manager)
        page = self.client.get("/import/", headers={"accept-language": "en"})
        self.assertNotContains(page, "Renewals")
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                "/import/",
                {"file": SimpleUploadedFile("WE.zip", export_zip()), "source": "salesforce"},
            )
        run_tasks()
        job = ImportJob.objects.latest("id")
        page = self.client.get(f"/import/{job.token}/", headers={"accept-language": "en"})
        self.assertContains(page, "Initial contact (archived)</option>")
        page = self.client.get(f"/import/{job.token}/", headers={"accept-language": "zh-hans"})
        self.assertContains(page, "初步接洽（已归档）</option>")
        # Mapping the stage of the open deal onto an archived one is refused on the page.
        Stage.objects.filter(pk=self.stages["proposal"].pk).update(archived=True)
        stages = [s["label"] for s in job.preview["migration"]["stages"]]
        data = {"mode": "map"}
        for i, label in enumerate(stages):
            data[f"stage-{i}"] = STAGES.get(label, "")
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(f"/import/{job.token}/options/", data)
        run_tasks()
        job = ImportJob.objects.get(pk=job.pk)
        [(row, column, value, _zh, en)] = job.errors
        self.assertEqual((row, column, value), (0, "stage", "Proposal/Price Quote"))
        self.assertIn("in the “Loudou stage” column", en)
        self.assertFalse(job.can_confirm)
