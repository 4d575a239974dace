"""The reports page and its downloads: the user's own view, in their language."""

import io
import json
from decimal import Decimal

from django.core.management import call_command
from django.test import TransactionTestCase

from loudou.core.testing import make_user
from loudou.deals import services
from loudou.people.models import Role, Team, User
from loudou.reports import loader
from loudou.reports.options import OPTIONS


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
    """The web form reads its options as the command line does (reports/options.py), and
    says what is wrong by the field's label, never by a URL parameter or a flag."""

    serialized_rollback = True

    def setUp(self):
        loader.clear_cache()
        self.rep = User.objects.create_user(username="rep", password="x")
        self.client.force_login(self.rep)

    def tearDown(self):
        loader.clear_cache()

    def message(self, query: str, lang: str = "en", status: int = 400) -> str:
        page = self.client.get(f"/reports/?{query}", headers={"accept-language": lang})
        self.assertEqual(page.status_code, status, query)
        return str(next(iter(page.context["messages"])))

    def test_a_bad_by_is_refused_not_dropped(self):
        self.assertEqual(
            self.message("name=funnel&by=colour"), "Group by: choose one from the list"
        )
        self.assertEqual(self.client.get("/reports/funnel.json?by=colour").status_code, 400)
        # A field of another report that the form carries along is left out, not an error.
        self.assertEqual(
            self.client.get("/reports/?name=diagnosis&by=owner&target=1").status_code, 200
        )

    def test_messages_name_the_field_by_its_label_in_the_users_language(self):
        for query, en, zh in [
            (
                "name=plan&target=lots",
                "Target amount: enter a number like 1,200,000 or 120万",
                "目标金额：请输入金额，例如 1,200,000 或 120万",
            ),
            (
                "name=plan",
                "Target amount: enter the revenue target for the period (or set quotas for it)",
                "目标金额：请填写本期间的收入目标（或为该期间设置配额）",
            ),
            (
                "name=funnel&from=2026-03-01&to=2026-02-01",
                "To (exclusive): must be after the start date",
                "结束日期（不含）：必须晚于开始日期",
            ),
            ("name=funnel&from=2026-13-01", "From: not a date (YYYY-MM-DD)", "开始日期："),
            ("name=funnel&window=0", "History window (days): from 1 to 3,660 days", "回看"),
            ("name=forecast&runs=5", "Simulation runs: from 100 to 1,000,000", "模拟次数"),
            ("name=funnel&pipeline=nope", "Pipeline: choose one from the list", "销售流程："),
        ]:
            with self.subTest(query=query):
                self.assertEqual(self.message(query), en)
                self.assertIn(zh, self.message(query, "zh-CN"))
                for words in (self.message(query), self.message(query, "zh-CN")):
                    self.assertNotIn("--", words)
                    self.assertNotRegex(words, r"^(target|from|to|window|runs|pipeline)\b")
        download = self.client.get(
            "/reports/plan.csv?target=lots", headers={"accept-language": "en"}
        )
        self.assertEqual(download.status_code, 400)
        self.assertTrue(download.content.decode().startswith("Target amount: "))

    def test_every_option_has_a_label_and_words_for_its_choices(self):
        for option in OPTIONS:
            with self.subTest(option=option.name):
                self.assertTrue(str(option.label))
                if option.kind == "choice":
                    self.assertEqual(len(option.choice_labels), len(option.choices))


class ReportPickerTests(TransactionTestCase):
    """Owner, team and source are pickers of what the viewer may see, people by display
    name; the values are the command line's (username, team name, source)."""

    serialized_rollback = True

    def setUp(self):
        loader.clear_cache()
        self.manager = make_user("mia", Role.MANAGER)
        north = Team.objects.create(name="North", manager=self.manager)
        self.rep = make_user("rita", Role.REP, north)
        User.objects.filter(pk=self.rep.pk).update(display_name="Rita Rep")
        south = Team.objects.create(name="South", manager=make_user("sam", Role.MANAGER))
        self.other = make_user("otto", Role.REP, south)
        self.admin = make_user("ada", Role.ADMIN)
        services.create_deal(actor=self.rep, name="fair", amount="100", source="展会")
        services.create_deal(actor=self.rep, name="site", amount="300", source="官网")
        services.create_deal(actor=self.other, name="theirs", amount="900", source="转介绍")

    def tearDown(self):
        loader.clear_cache()

    def fields(self, user: User, query: str = "name=snapshot") -> dict:
        self.client.force_login(user)
        page = self.client.get(f"/reports/?{query}", headers={"accept-language": "en"})
        self.assertEqual(page.status_code, 200, query)
        return {f.name: f for f in page.context["fields"]}

    def test_pickers_offer_what_the_viewer_may_see_by_display_name(self):
        fields = self.fields(self.manager)
        self.assertEqual(fields["owner"].widget, "select")
        self.assertEqual(
            fields["owner"].choices, [("", "All"), ("mia", "Mia"), ("rita", "Rita Rep")]
        )
        self.assertEqual(fields["team"].choices, [("", "All"), ("North", "North")])
        self.assertEqual(
            fields["source"].choices, [("", "Any"), ("官网", "官网"), ("展会", "展会")]
        )
        page = self.client.get("/reports/?name=snapshot", headers={"accept-language": "en"})
        self.assertContains(page, '<option value="rita" >Rita Rep</option>', html=False)
        self.assertNotContains(page, 'value="otto"')
        everything = self.fields(self.admin)
        self.assertEqual([v for v, _l in everything["team"].choices], ["", "North", "South"])
        self.assertIn(("转介绍", "转介绍"), everything["source"].choices)
        self.assertIn(("otto", "Otto"), everything["owner"].choices)
        # A rep sees their own deals only: nobody to pick, no team; their sources.
        mine = self.fields(self.rep)
        self.assertNotIn("owner", mine)
        self.assertNotIn("team", mine)
        self.assertEqual(len(mine["source"].choices), 3)

    def test_the_form_shows_every_option_of_the_report_from_its_description(self):
        fields = self.fields(self.admin, "name=forecast&owner=rita&runs=500")
        for name in ("owner", "team", "source", "seed", "runs", "window", "target", "simulate"):
            self.assertIn(name, fields)
        self.assertEqual(fields["runs"].value, "500")
        self.assertEqual(fields["owner"].value, "rita")
        self.assertNotIn("runs", self.fields(self.admin, "name=funnel"))
        self.assertNotIn("now", fields)  # the clock and the language are not the form's
        self.assertNotIn("lang", fields)
        # "Deal" groups only the collection report.
        self.assertNotIn("deal", dict(self.fields(self.admin, "name=funnel")["by"].choices))
        self.assertIn("deal", dict(self.fields(self.admin, "name=collection")["by"].choices))

    def test_picked_values_are_the_command_lines(self):
        self.client.force_login(self.manager)
        page = self.client.get("/reports/?name=snapshot&owner=rita&team=North&source=展会")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.context["params"]["source"], "展会")
        web = json.loads(
            self.client.get("/reports/snapshot.json?owner=rita&team=North&source=展会").content
        )
        out = io.StringIO()
        args = ["--owner", "rita", "--team", "North", "--source", "展会", "--user", "mia"]
        call_command("report", "snapshot", *args, "--format", "json", stdout=out)
        command = json.loads(out.getvalue())
        self.assertEqual((web["rows"], web["totals"]), (command["rows"], command["totals"]))
        self.assertEqual(command["totals"]["amount"], "100.00")
        # The cockpit's filters are the same pickers.
        cockpit = self.client.get("/cockpit/", headers={"accept-language": "en"})
        drawn = {f.name: f for f in cockpit.context["fields"]}
        self.assertEqual(drawn["owner"].choices, self.fields(self.manager)["owner"].choices)

    def test_a_value_the_picker_does_not_offer_is_refused_by_the_fields_label(self):
        self.client.force_login(self.manager)
        for query, en, zh in [
            (
                "name=snapshot&owner=otto",
                "Owner: choose one from the list",
                "负责人：请从列表中选择",
            ),
            ("name=snapshot&team=South", "Team: choose one from the list", "团队：请从列表中选择"),
            (
                "name=snapshot&source=转介绍",
                "Source: choose one from the list",
                "来源：请从列表中选择",
            ),
        ]:
            with self.subTest(query=query):
                page = self.client.get(f"/reports/?{query}", headers={"accept-language": "en"})
                self.assertEqual(page.status_code, 400)
                self.assertEqual(str(next(iter(page.context["messages"]))), en)
                page = self.client.get(f"/reports/?{query}", headers={"accept-language": "zh-CN"})
                self.assertEqual(str(next(iter(page.context["messages"]))), zh)
        cockpit = self.client.get("/cockpit/?owner=otto", headers={"accept-language": "en"})
        self.assertEqual(cockpit.status_code, 400)
        self.assertEqual(
            str(next(iter(cockpit.context["messages"]))), "Owner: choose one from the list"
        )
