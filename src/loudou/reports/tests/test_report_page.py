"""The reports page and its downloads: the user's own view, in their language."""

import json
from decimal import Decimal

from django.test import TransactionTestCase

from loudou.deals import services
from loudou.people.models import Role, Team, User
from loudou.reports import loader


class ReportPageTests(TransactionTestCase):
    serialized_rollback = True

    def setUp(self):
        loader.clear_cache()
        manager = User.objects.create_user(username="m", password="x", role=Role.MANAGER)
        team = Team.objects.create(name="North", manager=manager)
        self.rep = User.objects.create_user(username="rep", password="x", team=team)
        other = User.objects.create_user(username="other", password="x")
        services.create_deal(actor=self.rep, name="mine", amount="100")
        services.create_deal(actor=other, name="theirs", amount="900")
        self.client.force_login(self.rep)

    def tearDown(self):
        loader.clear_cache()

    def test_page_in_both_languages(self):
        zh = self.client.get("/reports/?name=snapshot", headers={"accept-language": "zh-CN"})
        self.assertEqual(zh.status_code, 200)
        self.assertContains(zh, "初步接洽")
        self.assertContains(zh, "加权金额")
        self.assertEqual(zh.context["grid"].rows[0][1], "1")  # only the rep's own deal
        en = self.client.get("/reports/?name=funnel&by=owner", headers={"accept-language": "en"})
        self.assertContains(en, "Conversion")
        self.assertContains(en, "/reports/funnel.csv?name=funnel&amp;by=owner")

    def test_downloads(self):
        data = json.loads(self.client.get("/reports/snapshot.json").content)
        self.assertEqual(data["totals"]["amount"], "100.00")
        csv_text = self.client.get("/reports/snapshot.csv").content.decode("utf-8-sig")
        self.assertTrue(csv_text.startswith("stage,stage_name,count"))

    def test_bad_options_are_messages(self):
        page = self.client.get("/reports/?name=funnel&from=2026-13-01")
        self.assertEqual(page.status_code, 400)  # the form again, with the message
        self.assertTrue(list(page.context["messages"]))
        self.assertEqual(self.client.get("/reports/funnel.csv?from=nope").status_code, 400)
        self.assertEqual(self.client.get("/reports/?name=secret").status_code, 404)


class ManagementReportPageTests(TransactionTestCase):
    serialized_rollback = True

    def setUp(self):
        loader.clear_cache()
        self.admin = User.objects.create_user(username="admin", password="x", role=Role.ADMIN)
        self.rep = User.objects.create_user(username="rep", password="x")
        services.create_deal(actor=self.rep, name="mine", amount="100")

    def tearDown(self):
        loader.clear_cache()

    def test_every_management_report_renders_with_its_options(self):
        self.client.force_login(self.admin)
        pages = [
            "name=stage_probability",
            "name=plan&target=120万",
            "name=plan&target=1000000&by=owner&probabilities=configured",
            "name=diagnosis&target=500000",
            "name=discipline&sort=stale_pct",
            "name=collection&by=deal&grain=quarter",
            "name=activities",
            "name=forecast&simulate=1&target=1000",
        ]
        for query in pages:
            with self.subTest(query=query):
                page = self.client.get(f"/reports/?{query}", headers={"accept-language": "en"})
                self.assertEqual(page.status_code, 200)
                self.assertFalse(list(page.context["messages"]), query)
                self.assertIsNotNone(page.context["grid"])
        plan = self.client.get("/reports/?name=plan&target=120万")
        self.assertEqual(plan.context["params"]["target"], Decimal("1200000"))
        forecast = self.client.get("/reports/?name=forecast&simulate=1&target=1000")
        self.assertIn("模拟 P50", forecast.context["grid"].totals)
        data = json.loads(self.client.get("/reports/forecast.json?simulate=1&target=1000").content)
        self.assertIn("simulated_p90", data["totals"])

    def test_missing_or_bad_target_is_a_message(self):
        self.client.force_login(self.rep)
        for query in ("name=plan", "name=plan&target=lots"):
            page = self.client.get(f"/reports/?{query}", headers={"accept-language": "en"})
            self.assertEqual(page.status_code, 400)
            self.assertTrue(list(page.context["messages"]), query)
        self.assertEqual(self.client.get("/reports/plan.csv").status_code, 400)

    def test_adoption_panel_for_admins_only(self):
        self.client.force_login(self.rep)
        page = self.client.get("/reports/?name=stage_probability")
        self.assertIsNone(page.context["adoptions"])
        refused = self.client.post(
            "/reports/probabilities/adopt/", follow=True, headers={"accept-language": "en"}
        )
        self.assertEqual(refused.status_code, 200)
        self.assertIn("admin", str(next(iter(refused.context["messages"]))))
        self.client.force_login(self.admin)
        page = self.client.get("/reports/?name=stage_probability")
        self.assertEqual(page.context["adoptions"], [])
        self.assertContains(page, "/reports/probabilities/adopt/")
        # One open deal is no history: nothing to adopt, said as a message.
        thin = self.client.post("/reports/probabilities/adopt/", follow=True)
        self.assertEqual(len(list(thin.context["messages"])), 1)


class ReportPageOptionTests(TransactionTestCase):
    """The web form reads its options as the command line does (reports/options.py)."""

    serialized_rollback = True

    def setUp(self):
        loader.clear_cache()
        self.rep = User.objects.create_user(username="rep", password="x")
        self.client.force_login(self.rep)

    def tearDown(self):
        loader.clear_cache()

    def test_a_bad_by_is_refused_not_dropped(self):
        page = self.client.get("/reports/?name=funnel&by=colour", headers={"accept-language": "en"})
        self.assertEqual(page.status_code, 400)
        self.assertIn("by: one of owner", str(next(iter(page.context["messages"]))))
        self.assertEqual(self.client.get("/reports/funnel.json?by=colour").status_code, 400)
        # A field of another report that the form carries along is left out, not an error.
        self.assertEqual(
            self.client.get("/reports/?name=diagnosis&by=owner&target=1").status_code, 200
        )

    def test_the_form_shows_every_option_of_the_report_from_its_description(self):
        page = self.client.get(
            "/reports/?name=forecast&owner=rep&runs=500", headers={"accept-language": "en"}
        )
        self.assertEqual(page.status_code, 200)
        for name in ("owner", "team", "source", "seed", "runs", "window"):
            self.assertContains(page, f'name="{name}"')
        self.assertContains(page, 'value="500"')
        funnel = self.client.get("/reports/?name=funnel")
        self.assertNotContains(funnel, 'name="runs"')
        bad = self.client.get("/reports/?name=funnel&window=0", headers={"accept-language": "en"})
        self.assertEqual(bad.status_code, 400)
