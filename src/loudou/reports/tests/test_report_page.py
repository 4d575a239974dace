"""The reports page and its downloads: the user's own view, in their language."""

import json

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
        self.assertEqual(page.status_code, 200)
        self.assertTrue(list(page.context["messages"]))
        self.assertEqual(self.client.get("/reports/funnel.csv?from=nope").status_code, 400)
        self.assertEqual(self.client.get("/reports/?name=secret").status_code, 404)
