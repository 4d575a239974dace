"""The web pages: board, list, create, deal page and each action, with permissions."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from loudou.activities.services import log_activity
from loudou.core.testing import LoudouTestCase
from loudou.deals import services
from loudou.deals.models import Deal, StageEvent


class ViewTestCase(LoudouTestCase):
    def setUp(self):
        self.client.force_login(self.rep)

    def messages(self, response):
        return [str(m) for m in response.context["messages"]] if response.context else []


class LoginTests(ViewTestCase):
    def test_login_page_and_redirect(self):
        self.client.logout()
        self.assertRedirects(self.client.get("/"), "/login/?next=/")
        response = self.client.get("/login/")
        self.assertEqual(response.status_code, 200)
        response = self.client.post("/login/", {"username": "rep", "password": "pw-rep"})
        self.assertRedirects(response, "/today/")

    def test_bad_password_is_a_message_not_an_error(self):
        self.client.logout()
        response = self.client.post("/login/", {"username": "rep", "password": "nope"})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["form"].errors)

    def test_healthz(self):
        self.assertEqual(self.client.get("/healthz").json(), {"ok": True})


class BoardTests(ViewTestCase):
    def test_board_shows_visible_open_deals_by_stage(self):
        mine = self.make_deal(name="我的商机", stage=self.stages["needs"])
        self.make_deal(owner=self.teammate, name="同事的商机")
        closed = self.make_deal(name="已输")
        services.lose_deal(actor=self.rep, deal=closed, reason=self.price)
        response = self.client.get("/")
        self.assertContains(response, "我的商机")
        self.assertNotContains(response, "同事的商机")
        self.assertNotContains(response, "已输")
        columns = {c.stage.key: c for c in response.context["columns"]}
        self.assertEqual([d.pk for d in columns["needs"].deals], [mine.pk])
        self.assertEqual(list(columns), ["contact", "needs", "proposal", "negotiation"])

    def test_manager_sees_the_team(self):
        self.make_deal(owner=self.teammate, name="同事的商机")
        self.make_deal(owner=self.outsider, name="South deal")
        self.client.force_login(self.manager)
        response = self.client.get("/")
        self.assertContains(response, "同事的商机")
        self.assertNotContains(response, "South deal")

    def test_board_query_count_does_not_grow_with_deals(self):
        for i in range(3):
            self.make_deal(name=f"d{i}")
        with CaptureQueriesContext(connection) as few:
            self.client.get("/")
        for i in range(20):
            self.make_deal(name=f"e{i}", stage=self.stages["proposal"])
        with self.assertNumQueries(len(few)):
            self.client.get("/")

    def test_stale_flag(self):
        from loudou.core.testing import ago

        self.make_deal(name="old", at=ago(30))
        self.make_deal(name="fresh")
        response = self.client.get("/")
        deals = {d.name: d for c in response.context["columns"] for d in c.deals}
        self.assertTrue(deals["old"].stale)
        self.assertFalse(deals["fresh"].stale)
        self.assertEqual(deals["old"].age_days, 30)

    def test_drag_to_a_blocked_stage_answers_with_the_dialog(self):
        deal = self.make_deal(name="拖动")
        response = self.client.post(
            f"/deals/{deal.pk}/move/",
            {"stage": self.stages["needs"].pk, "version": deal.version, "from": "board"},
            headers={"HX-Request": "true"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertTemplateUsed(response, "deals/_move_dialog.html")
        self.assertEqual(response["HX-Retarget"], "#move-dialog")
        self.assertContains(response, "初步接洽")
        deal.refresh_from_db()
        self.assertEqual(deal.stage.key, "contact")
        log_activity(actor=self.rep, deal=deal, type="call")
        self.client.post(
            f"/deals/{deal.pk}/move/",
            {"stage": self.stages["needs"].pk, "version": deal.version, "from": "board"},
            headers={"HX-Request": "true"},
        )
        deal.refresh_from_db()
        self.assertEqual(deal.stage.key, "needs")


class ListTests(ViewTestCase):
    def test_list_filters_and_visibility(self):
        self.make_deal(name="Alpha")
        lost = self.make_deal(name="Beta")
        services.lose_deal(actor=self.rep, deal=lost, reason=self.price)
        self.make_deal(owner=self.outsider, name="Gamma")
        response = self.client.get("/deals/")
        self.assertContains(response, "Alpha")
        self.assertContains(response, "Beta")
        self.assertNotContains(response, "Gamma")
        response = self.client.get("/deals/?status=lost")
        self.assertNotContains(response, "Alpha")
        response = self.client.get("/deals/?q=alp")
        self.assertContains(response, "Alpha")
        self.assertNotContains(response, "Beta")

    def test_list_query_count_is_constant(self):
        for i in range(3):
            self.make_deal(name=f"d{i}")
        with CaptureQueriesContext(connection) as few:
            self.client.get("/deals/")
        for i in range(20):
            self.make_deal(name=f"e{i}", account=self.account)
        with self.assertNumQueries(len(few)):
            self.client.get("/deals/")


class CreateAndDetailTests(ViewTestCase):
    def test_create(self):
        response = self.client.get("/deals/new/")
        self.assertEqual(response.status_code, 200)
        response = self.client.post(
            "/deals/new/",
            {
                "name": "新商机",
                "account_name": "阿里巴巴",
                "amount": "120000",
                "currency": "CNY",
                "source": "referral",
                "owner": self.rep.pk,
                "stage": self.stages["contact"].pk,
                "custom_budget": "150000",
            },
        )
        deal = Deal.objects.get(name="新商机")
        self.assertRedirects(response, f"/deals/{deal.pk}/")
        self.assertEqual(deal.account.name, "阿里巴巴")
        self.assertEqual(deal.custom, {"budget": 150000})

    def test_create_for_someone_else_is_refused_by_the_form(self):
        response = self.client.post(
            "/deals/new/",
            {"name": "x", "owner": self.teammate.pk, "stage": self.stages["contact"].pk},
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("owner", response.context["form"].errors)
        self.assertFalse(Deal.objects.filter(name="x").exists())

    def test_detail_shows_what_is_missing(self):
        deal = self.make_deal(name="详情")
        response = self.client.get(f"/deals/{deal.pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.context["unmet_next"]), 1)
        self.assertContains(response, response.context["unmet_next"][0].message_zh)

    def test_outsider_gets_404(self):
        deal = self.make_deal()
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(f"/deals/{deal.pk}/").status_code, 404)
        response = self.client.post(f"/deals/{deal.pk}/lose/", {"reason": self.price.pk})
        self.assertEqual(response.status_code, 404)
        deal.refresh_from_db()
        self.assertEqual(deal.status, "open")


class ActionTests(ViewTestCase):
    def post(self, deal, action, data, follow=True):
        return self.client.post(f"/deals/{deal.pk}/{action}/", data, follow=follow)

    def test_move_refused_lists_unmet_criteria(self):
        deal = self.make_deal()
        response = self.post(deal, "move", {"stage": self.stages["proposal"].pk})
        msgs = self.messages(response)
        self.assertTrue(any("初步接洽" in m for m in msgs))
        self.assertTrue(any("预算" in m for m in msgs))
        self.assertEqual(StageEvent.objects.filter(deal=deal).count(), 1)

    def test_manager_override_through_the_page(self):
        deal = self.make_deal()
        self.client.force_login(self.manager)
        self.post(deal, "move", {"stage": self.stages["needs"].pk, "override_reason": "急"})
        deal.refresh_from_db()
        self.assertEqual(deal.stage.key, "needs")
        self.assertEqual(StageEvent.objects.filter(deal=deal).last().override_reason, "急")

    def test_edit_with_stale_version_reports_conflict(self):
        deal = self.make_deal(name="old")
        data = {"name": "new", "owner": self.rep.pk, "version": 1, "amount": "5"}
        self.post(deal, "edit", data)
        deal.refresh_from_db()
        self.assertEqual((deal.name, deal.version), ("new", 2))
        response = self.post(deal, "edit", {**data, "name": "newer"})
        self.assertTrue(any("someone else" in m or "其他人" in m for m in self.messages(response)))
        deal.refresh_from_db()
        self.assertEqual(deal.name, "new")

    def test_edit_account_and_custom(self):
        deal = self.make_deal()
        self.post(
            deal,
            "edit",
            {
                "name": "n",
                "owner": self.rep.pk,
                "version": 1,
                "account_name": "腾讯",
                "custom_decision_maker": "马总",
            },
        )
        deal.refresh_from_db()
        self.assertEqual(deal.account.name, "腾讯")
        self.assertEqual(deal.custom["decision_maker"], "马总")

    def test_lose_then_reopen(self):
        deal = self.make_deal(stage=self.stages["needs"])
        response = self.post(deal, "lose", {})
        self.assertTrue(self.messages(response))
        deal.refresh_from_db()
        self.assertEqual(deal.status, "open")
        self.post(deal, "lose", {"reason": self.price.pk, "note": "贵"})
        deal.refresh_from_db()
        self.assertEqual(deal.status, "lost")
        self.post(deal, "reopen", {})
        deal.refresh_from_db()
        self.assertEqual((deal.status, deal.stage.key), ("open", "needs"))

    def test_approve_and_win(self):
        deal = self.make_deal(stage=self.stages["negotiation"])
        self.post(deal, "approve", {"note": "x"})  # a rep cannot approve
        self.assertFalse(deal.approvals.exists())
        self.client.force_login(self.manager)
        self.post(deal, "approve", {"note": "同意"})
        self.assertTrue(deal.approvals.exists())
        self.client.force_login(self.rep)
        self.post(deal, "win", {})
        deal.refresh_from_db()
        self.assertEqual(deal.status, "won")
        response = self.post(deal, "payments", {"amount": "100", "paid_on": timezone.localdate()})
        self.assertEqual(deal.payments.count(), 1)
        self.assertContains(response, "100.00")

    def test_activity_and_attachment(self):
        deal = self.make_deal()
        self.post(deal, "activities", {"type": "visit", "outcome": "positive", "note": "拜访"})
        self.assertEqual(deal.activities.get().type, "visit")
        upload = SimpleUploadedFile("报价单.pdf", b"%PDF-1.4", content_type="application/pdf")
        self.post(deal, "attachments", {"kind": "quote", "file": upload})
        attachment = deal.attachments.get()
        self.assertEqual(attachment.name, "报价单.pdf")
        response = self.client.get(reverse("attachment_download", args=[deal.pk, attachment.pk]))
        self.assertEqual(b"".join(response.streaming_content), b"%PDF-1.4")
        self.client.force_login(self.outsider)
        response = self.client.get(reverse("attachment_download", args=[deal.pk, attachment.pk]))
        self.assertEqual(response.status_code, 404)

    def test_invalid_form_input_is_a_message(self):
        deal = self.make_deal()
        response = self.post(deal, "activities", {"type": "telepathy"})
        self.assertTrue(self.messages(response))
        self.assertFalse(deal.activities.exists())

    def test_get_on_an_action_is_not_allowed(self):
        deal = self.make_deal()
        self.assertEqual(self.client.get(f"/deals/{deal.pk}/win/").status_code, 405)
