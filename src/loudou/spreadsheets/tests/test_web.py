"""The web import flow (upload, preview, dry run, confirm) and export downloads."""

from django.core.files.uploadedfile import SimpleUploadedFile

from loudou.deals.models import Deal

from .base import SheetTestCase

GOOD = b"name,owner,stage,created_at\nWeb deal,rep,needs,2024-01-01\n"
BAD = b"name,owner,created_at\n,rep,2024-01-01\nX,rep,someday\n"


class WebImportTests(SheetTestCase):
    def upload(self, content: bytes, name: str = "deals.csv"):
        return self.client.post("/import/", {"file": SimpleUploadedFile(name, content)})

    def test_reps_cannot_import(self):
        self.client.force_login(self.rep)
        self.assertEqual(self.client.get("/import/").status_code, 403)

    def test_preview_then_confirm(self):
        self.client.force_login(self.manager)
        self.assertEqual(self.client.get("/import/").status_code, 200)
        self.assertRedirects(self.upload(GOOD), "/import/preview/")
        preview = self.client.get("/import/preview/")
        self.assertContains(preview, "Web deal")
        self.assertContains(preview, "创建时间")  # created_at, read as users read it
        self.assertEqual(preview.context["summary"].created, 1)
        self.assertFalse(Deal.objects.exists())  # the check is a dry run
        response = self.client.post("/import/confirm/")
        self.assertRedirects(response, "/deals/")
        deal = Deal.objects.get(name="Web deal")
        self.assertEqual((deal.owner, deal.stage.key), (self.rep, "needs"))
        self.assertEqual(self.client.get("/import/preview/").status_code, 404)  # done

    def test_errors_are_listed_and_downloadable(self):
        self.client.force_login(self.admin)
        self.upload(BAD)
        preview = self.client.get("/import/preview/", headers={"accept-language": "en"})
        self.assertEqual([e[0] for e in preview.context["errors"]], [2, 3])
        self.assertContains(preview, "a deal needs a name")
        self.assertNotContains(preview, "Import now")
        errors = self.client.get("/import/errors.csv")
        self.assertIn("a deal needs a name", b"".join(errors.streaming_content).decode("utf-8"))
        self.client.post("/import/confirm/")
        self.assertFalse(Deal.objects.exists())

    def test_managers_import_for_their_teams_only(self):
        self.client.force_login(self.manager)
        self.upload(b"name,owner,created_at\nTheirs,outsider,2024-01-01\n")
        preview = self.client.get("/import/preview/", headers={"accept-language": "en"})
        self.assertContains(preview, "You may not import deals for this owner")

    def test_wrong_file_type(self):
        self.client.force_login(self.manager)
        response = self.upload(b"%PDF", "deals.pdf")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(list(response.context["messages"]))


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
