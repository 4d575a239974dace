"""The import page's "from Salesforce…": the export zip is checked in the background, the
preview shows the stage mapping to confirm or edit (or a mirror pipeline), then the
migration runs as a second task, all or nothing."""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from loudou.deals.models import Deal
from loudou.jobs.testing import run_tasks
from loudou.people.models import User
from loudou.pipelines.models import Pipeline
from loudou.spreadsheets.models import ImportJob

from .base import SheetTestCase
from .test_migrate_salesforce import FIXTURE


def export_zip(edits: dict[str, tuple[str, str]] | None = None) -> bytes:
    """The fixture as a zip; ``edits``: file name -> (old, new) text replaced in it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in FIXTURE.iterdir():
            text = path.read_text()
            if path.name in (edits or {}):
                text = text.replace(*edits[path.name])
            archive.writestr(path.name, text)
    return buffer.getvalue()


class MigrationPageTests(SheetTestCase):
    def setUp(self):
        super().setUp()
        User.objects.filter(pk=self.rep.pk).update(email="li.wei@example.com")
        User.objects.filter(pk=self.teammate.pk).update(email="zhang.min@example.com")
        self.client.force_login(self.manager)

    def post(self, url: str, data: dict, lang: str = "en"):
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(url, data, headers={"accept-language": lang})
        run_tasks()
        return response

    def job(self) -> ImportJob:
        return ImportJob.objects.latest("id")

    def page(self, lang: str = "en"):
        return self.client.get(f"/import/{self.job().token}/", headers={"accept-language": lang})

    def upload(self, edits: dict[str, tuple[str, str]] | None = None):
        upload = SimpleUploadedFile("WE_00D.zip", export_zip(edits))
        return self.post("/import/", {"file": upload, "source": "salesforce"})

    def test_the_page_offers_the_vendors(self):
        page = self.client.get("/import/", headers={"accept-language": "en"})
        self.assertContains(page, "From Salesforce…")
        self.assertContains(page, "悟空CRM")

    def test_preview_edit_the_mapping_then_migrate(self):
        self.upload()
        job = self.job()
        self.assertEqual((job.vendor, job.state), ("salesforce", "checked"))
        page = self.page()
        self.assertContains(page, "Migration preview")
        self.assertContains(page, "Proposal/Price Quote")
        self.assertContains(page, "proposed: confirm")
        self.assertFalse(job.can_confirm)  # guessed stages stop it
        self.assertContains(self.page("zh-hans"), "迁移预览")
        stages = [s["label"] for s in job.preview["migration"]["stages"]]
        chosen = {"Prospecting": "contact", "Needs Analysis": "needs"}
        data = {"mode": "map"}
        for i, label in enumerate(stages):
            data[f"stage-{i}"] = chosen.get(label, "proposal" if "Proposal" in label else "")
        self.post(f"/import/{job.token}/options/", data)
        job = self.job()
        won = [s for s in job.preview["migration"]["stages"] if s["kind"] == "won"]
        self.assertEqual(won[0]["target"], "won")  # outcomes need no choice
        self.assertTrue(job.can_confirm, job.errors)
        self.assertEqual(job.summary["created"], 3)
        self.assertFalse(Deal.objects.exists())
        self.post(f"/import/{job.token}/confirm/", {})
        self.assertEqual(self.job().state, "imported")
        self.assertEqual(Deal.objects.get(external_id="0061x00000A3").stage.key, "proposal")

    def test_contact_roles_on_the_page(self):
        self.upload()
        job = self.job()
        roles = job.preview["migration"]["contact_roles"]
        self.assertEqual((roles["rows"], roles["primary"], roles["left_out"]), (9, 2, 4))
        page = self.page()
        self.assertContains(page, "Contacts of the deals")
        self.assertContains(page, "9 contact roles read: 2 deals get their primary contact")
        self.assertContains(page, "the opportunity is not in the export (or is deleted)")
        self.assertContains(self.page("zh-hans"), "导出中没有这个商机（或已删除）")
        self.post(f"/import/{job.token}/options/", {"mode": "mirror", "mirror": "SF"})
        self.post(f"/import/{self.job().token}/confirm/", {})
        self.assertEqual(self.job().state, "imported")
        self.assertEqual(Deal.objects.get(external_id="0061x00000A1").contact.name, "Ann Chen")
        deal = Deal.objects.get(external_id="0061x00000A3")
        self.client.force_login(self.rep)
        detail = self.client.get(f"/deals/{deal.pk}/", headers={"accept-language": "en"})
        self.assertContains(detail, "<strong>Bo Wang</strong>")  # the deal's contacts…
        self.assertContains(detail, '<span class="badge">primary</span>')  # …its primary

    def test_mirror_pipeline_from_the_page(self):
        self.upload()
        job = self.job()
        self.post(f"/import/{job.token}/options/", {"mode": "mirror", "mirror": "From SF"})
        job = self.job()
        self.assertTrue(job.can_confirm, job.errors)
        self.post(f"/import/{job.token}/confirm/", {})
        pipeline = Pipeline.objects.get(key="from-sf")
        self.assertEqual(Deal.objects.filter(pipeline=pipeline).count(), 3)

    def test_owners_mapped_on_the_page(self):
        User.objects.filter(pk=self.teammate.pk).update(email="")
        self.upload()
        job = self.job()
        self.assertContains(self.page(), 'name="owner-')
        owners = [o["source"] for o in job.preview["migration"]["owners"]]
        data = {"mode": "mirror", "mirror": "SF"}
        data[f"owner-{owners.index('zhang.min@example.com')}"] = "teammate"
        self.post(f"/import/{job.token}/options/", data)
        self.assertTrue(self.job().can_confirm, self.job().errors)
        self.post(f"/import/{job.token}/confirm/", {})
        self.assertEqual(Deal.objects.get(external_id="0061x00000A2").owner, self.teammate)

    def test_someone_elses_job_cannot_be_edited(self):
        self.upload()
        self.client.force_login(self.other_manager)
        response = self.client.post(f"/import/{self.job().token}/options/", {"mode": "mirror"})
        self.assertEqual(response.status_code, 404)

    def test_a_wrong_file_type_is_refused(self):
        upload = SimpleUploadedFile("export.pdf", b"%PDF")
        response = self.client.post("/import/", {"file": upload, "source": "salesforce"})
        self.assertEqual(response.status_code, 200)
        self.assertFalse(ImportJob.objects.exists())

    def test_problems_name_the_pages_controls_never_a_flag(self):
        User.objects.filter(pk=self.teammate.pk).update(email="")
        self.upload({"Opportunity.csv": ('"FiscalYear"', '"Stage_Detail__c"')})
        job = self.job()
        self.assertEqual(job.error_count, 5)  # a column, an owner, three guessed stages
        for lang, check_again in (("en", "Check again with these choices"), ("zh-hans", "")):
            page = self.page(lang).content.decode()
            problems = page[page.index("Result of the check" if lang == "en" else "检查结果") :]
            self.assertNotIn("--", problems)
            if check_again:  # the words the messages quote are the page's own
                self.assertIn(f"then “{check_again}”", problems)
                self.assertIn(f">{check_again}</button>", page)
                self.assertIn("“Loudou user” column", problems)
                self.assertIn("<th>Loudou user</th>", page)
        self.assertIn("再点“", job.errors[0][3])
        self.assertNotIn("--", str(job.errors))
