"""The web import flow (upload, preview, dry run, confirm) and export downloads."""

import datetime as dt
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from loudou.deals.models import Deal
from loudou.jobs.testing import run_tasks
from loudou.spreadsheets import jobs
from loudou.spreadsheets.models import ImportJob

from .base import SheetTestCase

GOOD = b"name,owner,stage,created_at\nWeb deal,rep,needs,2024-01-01\n"
BAD = b"name,owner,created_at\n,rep,2024-01-01\nX,rep,someday\n"


class WebImportTests(SheetTestCase):
    """The upload is stored and checked by a background task (run here at once, as the
    worker would), the page shows the check, the confirm runs the import as a task."""

    def upload(self, content: bytes, name: str = "deals.csv", lang: str = "en"):
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/import/",
                {"file": SimpleUploadedFile(name, content)},
                headers={"accept-language": lang},
            )
        run_tasks()  # the worker's part: the check
        return response

    def job(self) -> ImportJob:
        return ImportJob.objects.latest("id")

    def page(self, lang: str = "zh-hans"):
        return self.client.get(f"/import/{self.job().token}/", headers={"accept-language": lang})

    def test_problems_name_the_upload_forms_box_never_a_flag(self):
        self.client.force_login(self.admin)
        self.upload(b"name,owner\nX,nobody\n")
        [problem] = self.job().errors
        self.assertIn("“Create unknown owners and teams (administrators)”", problem[4])
        self.assertNotIn("--", problem[3] + problem[4])
        self.assertContains(self.page("en"), "when you upload the file to create it")
        self.assertNotContains(self.page("en"), "--create-owners")

    def test_reps_cannot_import(self):
        self.client.force_login(self.rep)
        self.assertEqual(self.client.get("/import/").status_code, 403)

    def test_upload_check_then_confirm(self):
        self.client.force_login(self.manager)
        self.assertEqual(self.client.get("/import/").status_code, 200)
        response = self.upload(GOOD)
        job = self.job()
        self.assertRedirects(response, f"/import/{job.token}/")
        self.assertEqual((job.state, job.summary["created"]), ("checked", 1))
        page = self.page()
        self.assertContains(page, "Web deal")
        self.assertContains(page, "创建时间")  # created_at, read as users read it
        self.assertFalse(Deal.objects.exists())  # the check writes nothing
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(f"/import/{job.token}/confirm/")
        self.assertEqual(self.job().state, "importing")
        run_tasks()  # the worker's part: the import
        self.assertRedirects(response, f"/import/{job.token}/")
        deal = Deal.objects.get(name="Web deal")
        self.assertEqual((deal.owner, deal.stage.key), (self.rep, "needs"))
        self.assertEqual(self.job().state, "imported")
        self.assertContains(self.page("en"), "Imported 1 row: 1 created")
        self.assertFalse(Path(job.path).exists())  # the upload is gone once imported
        self.assertEqual(self.client.post(f"/import/{job.token}/confirm/").status_code, 302)
        self.assertEqual(Deal.objects.count(), 1)  # a second confirm imports nothing

    def test_the_preview_names_custom_field_columns(self):
        self.client.force_login(self.manager)
        self.upload(b"name,owner,created_at,budget\nWeb deal,rep,2024-01-01,5000\n")
        self.assertEqual(self.job().summary["ignored_columns"], [])
        self.assertIn(
            ["budget", "自定义字段“预算”", "Custom field “Budget”"], self.job().preview["columns"]
        )
        self.assertContains(self.page("en"), "Custom field “Budget”")

    def test_a_running_job_shows_its_progress_and_polls(self):
        self.client.force_login(self.manager)
        with self.captureOnCommitCallbacks(execute=True):  # queued; no worker has run yet
            self.client.post("/import/", {"file": SimpleUploadedFile("d.csv", GOOD)})
        page = self.page("en")
        self.assertContains(page, "Checking every row")
        self.assertContains(page, 'hx-trigger="every 1s"')
        partial = self.client.get(f"/import/{self.job().token}/", headers={"HX-Request": "true"})
        self.assertNotContains(partial, "<html")

    def test_errors_are_listed_and_downloadable(self):
        self.client.force_login(self.admin)
        self.upload(BAD, lang="en")
        preview = self.page("en")
        self.assertEqual([e[0] for e in preview.context["errors"]], [2, 3])
        self.assertContains(preview, "a deal needs a name")
        self.assertNotContains(preview, "Import now")
        errors = self.client.get(
            f"/import/{self.job().token}/errors.csv", headers={"accept-language": "en"}
        )
        self.assertIn("a deal needs a name", b"".join(errors.streaming_content).decode("utf-8"))
        # Whoever downloads it reads it in the page's language, whatever the check's was.
        errors = self.client.get(
            f"/import/{self.job().token}/errors.csv", headers={"accept-language": "zh-hans"}
        )
        text = b"".join(errors.streaming_content).decode("utf-8")
        self.assertIn("商机名称不能为空", text)
        self.assertTrue(text.startswith("\ufeff行,列,值,原因"))
        self.client.post(f"/import/{self.job().token}/confirm/")
        self.assertFalse(Deal.objects.exists())

    def test_managers_import_for_their_teams_only(self):
        self.client.force_login(self.manager)
        self.upload(b"name,owner,created_at\nTheirs,outsider,2024-01-01\n")
        self.assertContains(self.page("en"), "You may not import deals for this owner")

    def test_wrong_file_type_and_size(self):
        self.client.force_login(self.manager)
        response = self.upload(b"%PDF", "deals.pdf")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(list(response.context["messages"]))
        with self.settings(LOUDOU_IMPORT_MAX_UPLOAD_BYTES=1024):
            response = self.upload(b"name,owner\n" + b"x,rep\n" * 500)
        self.assertContains(response, "too large")
        self.assertFalse(ImportJob.objects.exists())

    def test_an_import_is_its_users_alone(self):
        self.client.force_login(self.manager)
        self.upload(GOOD)
        token = self.job().token
        self.client.force_login(self.other_manager)
        self.assertEqual(self.client.get(f"/import/{token}/").status_code, 404)
        self.assertEqual(self.client.post(f"/import/{token}/confirm/").status_code, 404)
        self.assertEqual(self.client.get(f"/import/{token}/errors.csv").status_code, 404)

    def test_old_files_are_cleaned_up(self):
        self.client.force_login(self.manager)
        self.upload(BAD)
        job = self.job()
        errors = Path(f"{job.path}.errors.csv")
        self.assertTrue(errors.exists())
        later = timezone.now() + dt.timedelta(hours=25)
        self.assertGreaterEqual(jobs.clean_old(later), 2)
        self.assertFalse(Path(job.path).exists() or errors.exists())


class WebExportTests(SheetTestCase):
    def test_downloads_follow_visibility(self):
        self.make_deal(name="mine")
        self.make_deal(owner=self.outsider, name="theirs")
        self.client.force_login(self.rep)
        response = self.client.get("/export/deals.csv")
        text = response.content.decode("utf-8-sig")
        self.assertIn("mine", text)
        self.assertNotIn("theirs", text)
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="loudou-deals.csv"')
        xlsx = self.client.get("/export/history.xlsx")
        self.assertTrue(xlsx.content.startswith(b"PK"))
        self.assertEqual(self.client.get("/export/secrets.csv").status_code, 404)
        self.assertContains(self.client.get("/deals/"), "/export/deals.xlsx")
