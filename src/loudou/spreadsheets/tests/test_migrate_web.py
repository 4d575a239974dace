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
        column = next(e for e in job.errors if e[1].endswith("Stage_Detail__c"))
        self.assertIn("再点“", column[3])
        self.assertNotIn("--", str(job.errors))

    def test_the_preview_speaks_the_readers_language_not_keys(self):
        User.objects.filter(pk=self.teammate.pk).update(email="")
        self.upload()
        job = self.job()
        en, zh = self.page("en").content.decode(), self.page("zh-hans").content.decode()
        # What each column is read as: its label, the key aside.
        self.assertIn("OwnerId → Owner <small>(owner)</small>", en)
        self.assertIn("OwnerId → 负责人 <small>(owner)</small>", zh)
        self.assertIn("Id → External ID <small>(external_id)</small>", en)
        self.assertIn("OpportunityId → The deal (its external ID)", en)
        self.assertNotIn("→ last_changed_at", en)
        # A matched owner by the user's display name, not the username.
        self.assertIn("<td>Rep</td>", en)
        self.assertNotIn("<td>rep</td>", en)
        # Problems: a column by its label and the file's header; a stage's without a row.
        problems = en[en.index("Result of the check") :]
        self.assertIn("<td>Opportunity.csv: Owner (OwnerId)</td>", problems)
        self.assertIn("<td></td><td>Stage</td><td>Prospecting</td>", problems)
        self.assertIn("<td>Opportunity.csv: 负责人 (OwnerId)</td>", zh)
        # Plurals: one decision maker.
        self.assertIn("1 contact is marked as a decision maker;", en)
        # The mirror's stages by their names; estimated probabilities said so.
        self.post(f"/import/{job.token}/options/", {"mode": "mirror", "mirror": "SF"})
        en = self.page("en").content.decode()
        self.assertIn("<td>Proposal/Price Quote</td><td>Open stage</td>", en)
        self.assertNotIn("proposal-price-quote", en)
        self.assertIn("Won (signed)", en)
        self.assertIn("签约成单", self.page("zh-hans").content.decode())

    def test_estimated_probabilities_are_marked(self):
        history = ("OpportunityHistory.csv", ('"Probability"', '"Probability_old__c"'))
        self.upload(dict([history]))
        stages = {s["label"]: s for s in self.job().preview["migration"]["stages"]}
        self.assertTrue(stages["Needs Analysis"]["estimated"])
        self.assertFalse(stages["Proposal/Price Quote"]["estimated"])
        self.assertContains(self.page(), "(estimated)")
        self.assertContains(self.page("zh-hans"), "（估计）")

    def test_the_problems_file_is_in_the_language_of_who_downloads_it(self):
        User.objects.filter(pk=self.teammate.pk).update(email="")
        self.upload()  # checked in English
        url = f"/import/{self.job().token}/errors.csv"
        for lang, expected in (
            ("zh-hans", ",Opportunity.csv: 负责人 (OwnerId),zhang.min@example.com,负责人“"),
            ("en", ",Opportunity.csv: Owner (OwnerId),zhang.min@example.com,owner “"),
        ):
            response = self.client.get(url, headers={"accept-language": lang})
            self.assertIn(expected, b"".join(response.streaming_content).decode("utf-8"))
