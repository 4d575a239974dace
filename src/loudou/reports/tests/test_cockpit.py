"""The cockpit: its numbers are the reports' numbers, for the user's scope, in both
languages; its panels download; its charts need nothing the CSP forbids."""

import datetime as dt
import io
import json
from decimal import Decimal

from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import connection
from django.test import SimpleTestCase, TransactionTestCase
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape
from openpyxl import load_workbook

from loudou.analytics.output import to_data
from loudou.core.demo import seed_demo
from loudou.core.tests.test_csp import InlineCode
from loudou.deals.models import Deal
from loudou.people.models import User
from loudou.pipelines.models import ProbabilityAdoption, Stage
from loudou.reports import loader
from loudou.reports.cockpit import PANELS, cockpit, quarter_slices
from loudou.reports.plotly_assets import plotly_css
from loudou.reports.services import finding_deals

NOW = dt.datetime.fromisoformat("2026-06-30T12:00:00+08:00")


def report_json(*args: str, now: dt.datetime | None = NOW) -> dict:
    """`loudou report ARGS --format json` (at ``now``; None: the real clock, as pages)."""
    out = io.StringIO()
    clock = ["--now", now.isoformat()] if now else []
    call_command("report", *args, "--format", "json", *clock, stdout=out)
    return json.loads(out.getvalue())


def figures(html: str) -> dict[str, dict]:
    """The figures a page holds, by id (the JSON data blocks charts.js draws)."""
    found = {}
    for part in html.split('<script id="')[1:]:
        fid, rest = part.split('"', 1)
        body = rest.split(">", 1)[1].split("</script>", 1)[0]
        found[fid] = json.loads(body)
    return found


def axis_problems(figure: dict) -> list[str]:
    """What a reader would miss on a chart: a category axis (stage names, reps, periods)
    that is not drawn, or a drawn axis without a title. plotly.js hides a funnel's axes
    unless the layout asks for them."""
    problems = []
    layout = figure["layout"]
    funnel = any(t.get("type") == "funnel" for t in figure["data"])
    for letter in ("x", "y"):
        values = [v for t in figure["data"] for v in t.get(letter) or []]
        if not values:
            continue
        spec = layout.get(f"{letter}axis", {})
        categorical = any(isinstance(v, str) for v in values)
        shown = spec.get("visible", not funnel)
        if categorical and not shown:
            problems.append(f"{letter}: the category labels are hidden")
        if shown and not (spec.get("title") or {}).get("text"):
            problems.append(f"{letter}: no title")
    return problems


class CockpitTests(TransactionTestCase):
    serialized_rollback = True

    def setUp(self):
        loader.clear_cache()
        seed_demo(deals=80, now=NOW)
        self.manager = User.objects.get(username="manager1")
        self.rep = User.objects.get(username="rep1")

    def tearDown(self):
        loader.clear_cache()

    def test_panels_equal_loudou_report_for_the_same_options(self):
        options = {"date_from": dt.date(2026, 1, 1), "date_to": dt.date(2026, 7, 1)}
        options["target"] = Decimal("2000000.00")  # as the page and the command parse it
        panels = {
            p.key: p for p in cockpit(user=self.manager, options={**options, "lang": "en"}, now=NOW)
        }
        self.assertEqual(set(panels), set(PANELS))
        common = ["--from", "2026-01-01", "--to", "2026-07-01", "--user", "manager1"]
        common += ["--lang", "en"]
        expected = {
            ("funnel", "funnel"): report_json("funnel", *common),
            ("funnel", "flow"): report_json("flow", *common),
            ("conversion", "funnel_by_owner"): report_json("funnel", "--by", "owner", *common),
            ("times", "time_in_stage"): report_json("time_in_stage", *common),
            ("times", "cycle"): report_json("cycle", *common),
            ("forecast", "forecast"): report_json(
                "forecast", "--simulate", "--target", "2000000", *common
            ),
            ("plan", "plan"): report_json("plan", "--target", "2000000", *common),
            ("collection", "collection"): report_json("collection", *common),
            ("diagnosis", "diagnosis"): report_json("diagnosis", "--target", "2000000", *common),
            ("discipline", "discipline"): report_json("discipline", *common),
        }
        for (panel, name), data in expected.items():
            with self.subTest(panel=panel, report=name):
                result = dict(panels[panel].results)[name]
                self.assertEqual(to_data(result), data)
        self.assertTrue(expected[("funnel", "funnel")]["rows"][0]["reached"] > 0)
        # Each quarter of the trend is stage_probability over that quarter.
        trend = dict(panels["trend"].results)["win_rate_trend"]
        second = report_json(
            "stage_probability",
            "--from",
            "2026-01-01",
            "--to",
            "2026-04-01",
            "--user",
            "manager1",
            "--lang",
            "en",
        )
        rows = [r for r in trend.rows if r["period"] == "2026 Q1" and r["stage"]]
        self.assertEqual(
            [r["historical_probability"] for r in rows],
            [r["historical_probability"] for r in second["rows"]],
        )
        win = next(r for r in trend.rows if r["period"] == "2026 Q1" and r["stage"] is None)
        self.assertEqual(win["historical_probability"], second["totals"]["win_rate"])

    def test_the_simulated_forecast_is_kept_until_the_data_or_the_day_change(self):
        from unittest import mock

        from loudou.analytics import forecast as module
        from loudou.deals import services

        calls = []

        def counting(*args, **kwargs):
            calls.append(1)
            return real(*args, **kwargs)

        real = module.simulate_sums
        options = {"lang": "en", "target": Decimal("1000000.00")}
        with mock.patch.object(module, "simulate_sums", counting):
            first = cockpit(user=self.manager, options=options, now=NOW, panels=["forecast"])
            later = NOW + dt.timedelta(hours=1)
            again = cockpit(user=self.manager, options=options, now=later, panels=["forecast"])
            self.assertEqual(len(calls), 1)
            one, two = first[0].results[0][1], again[0].results[0][1]
            self.assertEqual((one.rows, one.totals), (two.rows, two.totals))
            self.assertEqual(two.params["now"], later.isoformat())  # echoed as asked
            cockpit(user=self.rep, options=options, now=later, panels=["forecast"])
            self.assertEqual(len(calls), 2)  # another user's view is their own
            services.create_deal(actor=self.manager, name="new", amount="5")
            cockpit(user=self.manager, options=options, now=later, panels=["forecast"])
            self.assertEqual(len(calls), 3)  # new data
            tomorrow = NOW + dt.timedelta(days=1)
            cockpit(user=self.manager, options=options, now=tomorrow, panels=["forecast"])
            self.assertEqual(len(calls), 4)  # a new day

    def test_the_funnel_chart_shows_the_reports_numbers_per_rep(self):
        self.client.force_login(self.manager)
        page = self.client.get("/cockpit/?owner=rep1", headers={"accept-language": "en"})
        self.assertEqual(page.status_code, 200)
        drawn = figures(page.content.decode())["fig-funnel"]["data"][0]["x"]
        data = report_json("funnel", "--owner", "rep1", "--user", "manager1", now=None)
        self.assertEqual(drawn, [r["reached"] for r in data["rows"]])
        everyone = report_json("funnel", "--user", "manager1", now=None)
        self.assertNotEqual(drawn, [r["reached"] for r in everyone["rows"]])
        self.assertContains(page, "Conversion by rep and stage")
        self.assertContains(page, "loudou/vendor/plotly.min.js")

    def test_a_rep_sees_their_own_numbers_and_no_filters(self):
        self.client.force_login(self.rep)
        page = self.client.get("/cockpit/", headers={"accept-language": "zh-CN"})
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "驾驶舱")
        drawn_fields = [f.name for f in page.context["fields"]]
        self.assertNotIn("owner", drawn_fields)  # nobody else to pick
        self.assertNotIn("team", drawn_fields)
        self.assertNotContains(page, 'name="owner"')
        drawn = figures(page.content.decode())["fig-funnel"]["data"][0]["x"]
        mine = report_json("funnel", "--user", "rep1", now=None)
        self.assertEqual(drawn, [r["reached"] for r in mine["rows"]])
        # A rep asking for another rep's deals is refused, and sees nothing of theirs.
        other = self.client.get("/cockpit/?owner=rep2", headers={"accept-language": "en"})
        self.assertEqual(other.status_code, 400)
        self.assertEqual(figures(other.content.decode()), {})
        self.assertEqual(
            [str(m) for m in other.context["messages"]], ["Owner: choose one from the list"]
        )
        self.assertEqual(self.client.get("/cockpit/?owner=rep1").status_code, 200)

    def test_every_chart_names_its_axes_in_the_pages_language(self):
        self.client.force_login(self.manager)
        for lang, stage in (("en", "Initial contact"), ("zh-CN", "初步接洽")):
            page = self.client.get("/cockpit/?target=800000", headers={"accept-language": lang})
            drawn = figures(page.content.decode())
            self.assertEqual(len(drawn), 8, lang)
            for fid, figure in drawn.items():
                with self.subTest(lang=lang, figure=fid):
                    self.assertEqual(axis_problems(figure), [])
            funnel = drawn["fig-funnel"]
            self.assertIn(stage, funnel["data"][0]["y"])
            self.assertTrue(funnel["layout"]["yaxis"]["visible"])
        # The forecast is drawn in a thread of its own: in the page's language too.
        english = self.client.get("/cockpit/", headers={"accept-language": "en"})
        forecast = figures(english.content.decode())["fig-forecast"]
        self.assertEqual(forecast["data"][0]["name"], "Already won")
        self.assertEqual(forecast["layout"]["yaxis"]["title"]["text"], "Amount")
        self.assertContains(english, "<h2>Forecast</h2>", html=False)

    def test_the_outstanding_amount_is_grouped_in_both_languages(self):
        self.client.force_login(self.manager)
        for lang, words in (("en", "Outstanding: "), ("zh-CN", "未回款：")):
            page = self.client.get("/cockpit/", headers={"accept-language": lang})
            panel = next(p for p in page.context["panels"] if p.key == "collection")
            outstanding = panel.extra["outstanding"]
            self.assertGreater(outstanding, 1000)  # a number that has groups
            # zh-Hans formats group no digits in Django: amounts are grouped everywhere.
            self.assertContains(page, f"{words}{Decimal(outstanding):,.2f}")

    def test_people_are_shown_by_display_name_and_downloads_carry_both(self):
        self.client.force_login(self.manager)
        reps = {u.username: str(u) for u in User.objects.filter(username__startswith="rep")}
        self.assertNotIn("rep1", reps["rep1"])  # the demo's reps have display names
        page = self.client.get("/cockpit/?plan_by=owner&target=800000")
        html = page.content.decode()
        drawn = figures(html)
        self.assertIn(reps["rep1"], drawn["fig-conversion"]["data"][0]["y"])
        self.assertNotIn("rep1", drawn["fig-conversion"]["data"][0]["y"])
        self.assertIn(reps["rep1"], drawn["fig-discipline"]["data"][0]["x"])
        self.assertIn(reps["rep1"], [t["name"] for t in drawn["fig-plan"]["data"]])
        table = str(next(p for p in page.context["panels"] if p.key == "discipline").extra["table"])
        self.assertIn(reps["rep1"], table)
        self.assertNotIn(">rep1<", table)
        findings = next(p for p in page.context["panels"] if p.key == "diagnosis").extra
        stale = [f for f, _deals in findings["findings"] if f["code"] == "stale"]
        self.assertTrue(stale)
        for finding in stale:
            self.assertIn(reps[finding["owner"]], finding["message_zh"])
            self.assertEqual(finding["owner_name"], reps[finding["owner"]])
        # Downloads keep the username beside the display name.
        csv_text = self.client.get("/cockpit/discipline.csv").content.decode("utf-8-sig")
        self.assertTrue(csv_text.startswith("scope,owner,owner_name,team"))
        self.assertIn(f"rep1,{reps['rep1']},", csv_text)
        book = load_workbook(io.BytesIO(self.client.get("/cockpit/conversion.xlsx").content))
        header = [c.value for c in next(book["funnel_by_owner"].iter_rows(max_row=1))]
        self.assertEqual(header[:2], ["owner", "owner_name"])
        # A report page grouped by owner shows the display names only.
        report = self.client.get("/reports/?name=win_rate&by=owner")
        rows = report.context["grid"].rows
        self.assertIn(reps["rep1"], [row[0] for row in rows])
        self.assertNotIn("rep1", [cell for row in rows for cell in row])

    def test_findings_name_their_deals_with_links_to_those_the_user_may_see(self):
        self.client.force_login(self.manager)
        page = self.client.get("/cockpit/", headers={"accept-language": "en"})
        panel = next(p for p in page.context["panels"] if p.key == "diagnosis")
        named = [(f, deals) for f, deals in panel.extra["findings"] if deals]
        self.assertTrue(named, "the demo has stuck deals")
        for finding, deals in named:
            self.assertEqual([i for i, _n in deals], finding["numbers"]["deal_ids"])
            for deal_id, name in deals:
                self.assertEqual(Deal.objects.get(pk=deal_id).name, name)
                self.assertContains(page, f'<a href="/deals/{deal_id}/">{escape(name)}</a>')
        self.assertNotContains(page, f">#{deals[0][0]}<")
        report = self.client.get("/reports/?name=diagnosis", headers={"accept-language": "en"})
        self.assertIn("Deals", [h for h, _n in report.context["header_cells"]])
        self.assertContains(report, f'<a href="/deals/{deals[0][0]}/">{escape(deals[0][1])}</a>')
        # Only the deals the user may see: a rep gets no name of a colleague's deal.
        theirs = Deal.objects.exclude(owner=self.rep).first()
        mine = Deal.objects.filter(owner=self.rep).first()
        findings = [{"numbers": {"deal_ids": [theirs.pk, mine.pk]}}, {"numbers": {}}]
        self.assertEqual(
            finding_deals(user=self.rep, findings=findings), [[(mine.pk, mine.name)], []]
        )

    def test_query_count_is_bounded(self):
        self.client.force_login(self.manager)
        self.client.get("/cockpit/")  # warm the frames
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get("/cockpit/").status_code, 200)
        # session, user, scope, pipelines, teams, reps, and one data-version read per
        # report: independent of the number of deals.
        count = len(queries)
        self.assertLessEqual(count, 30)
        from loudou.deals import services

        for i in range(10):
            services.create_deal(actor=self.rep, name=f"more {i}", amount="100")
        self.client.get("/cockpit/")  # the frames again, after the writes
        with self.assertNumQueries(count):
            self.client.get("/cockpit/")

    def test_downloads(self):
        self.client.force_login(self.manager)
        User.objects.filter(username="rep1").update(username="=HYPERLINK(1)")
        csv_text = self.client.get("/cockpit/discipline.csv").content.decode("utf-8-sig")
        self.assertTrue(csv_text.startswith("scope,owner,owner_name,team"))
        self.assertIn("'=HYPERLINK(1)", csv_text)
        response = self.client.get("/cockpit/funnel.xlsx?from=2026-01-01&to=2026-07-01")
        self.assertEqual(response.status_code, 200)
        book = load_workbook(io.BytesIO(response.content))
        self.assertEqual(book.sheetnames, ["funnel", "flow"])
        self.assertEqual(book["funnel"]["A1"].value, "stage")
        discipline = load_workbook(io.BytesIO(self.client.get("/cockpit/discipline.xlsx").content))
        owners = [row[1].value for row in discipline["discipline"].iter_rows(min_row=2)]
        self.assertIn("'=HYPERLINK(1)", owners)
        self.assertEqual(self.client.get("/cockpit/secret.csv").status_code, 404)
        self.assertEqual(self.client.get("/cockpit/funnel.pdf").status_code, 404)
        self.assertEqual(self.client.get("/cockpit/funnel.csv?from=nope").status_code, 400)
        # The plan without a target or quotas says so, as a 400 with the reason.
        self.assertEqual(self.client.get("/cockpit/plan.csv").status_code, 400)

    def test_bad_options_are_a_message_not_a_500(self):
        self.client.force_login(self.manager)
        page = self.client.get(
            "/cockpit/?from=2026-07-01&to=2026-01-01", headers={"accept-language": "en"}
        )
        self.assertEqual(page.status_code, 400)
        self.assertEqual(
            [str(m) for m in page.context["messages"]],
            ["To (exclusive): must be after the start date"],
        )
        self.assertEqual(self.client.get("/cockpit/?from=2026-13-01").status_code, 400)
        # A panel refusing the options says so by the field's label, in the page's words.
        for lang, words in (
            ("en", "Target amount: enter the revenue target for the period (or set quotas for it)"),
            ("zh-CN", "目标金额：请填写本期间的收入目标（或为该期间设置配额）"),
        ):
            page = self.client.get("/cockpit/", headers={"accept-language": lang})
            plan = next(p for p in page.context["panels"] if p.key == "plan")
            self.assertEqual(plan.extra["error"], words)
            self.assertNotContains(page, "--target")
        download = self.client.get("/cockpit/plan.csv", headers={"accept-language": "en"})
        self.assertEqual(
            download.content.decode(),
            "Target amount: enter the revenue target for the period (or set quotas for it)",
        )

    def test_needs_a_login(self):
        self.assertEqual(self.client.get("/cockpit/").status_code, 302)
        self.assertEqual(self.client.get("/cockpit/funnel.csv").status_code, 302)

    def test_no_inline_code_and_report_pages_show_their_chart(self):
        self.client.force_login(self.manager)
        for path in ["/cockpit/", "/reports/?name=funnel", "/reports/?name=forecast&simulate=1"]:
            page = self.client.get(path)
            parser = InlineCode()
            parser.feed(page.content.decode())
            self.assertEqual(parser.found, [], path)
            self.assertIn("img-src 'self' data: blob:", page["Content-Security-Policy"])
        report = self.client.get("/reports/?name=funnel")
        self.assertIn("fig-report", figures(report.content.decode()))


class ReportChartTests(TransactionTestCase):
    serialized_rollback = True

    def setUp(self):
        loader.clear_cache()
        seed_demo(deals=60, now=NOW)

    def tearDown(self):
        loader.clear_cache()

    def test_every_report_page_draws_its_chart_whatever_the_grouping(self):
        self.client.force_login(User.objects.get(username="demo-admin"))
        names = [
            "snapshot",
            "funnel",
            "flow",
            "time_in_stage",
            "cycle",
            "win_rate",
            "forecast",
            "stage_probability",
            "diagnosis",
            "discipline",
            "collection",
            "activities",
        ]
        for name in names:
            for by in ("", "owner", "team", "source"):
                with self.subTest(name=name, by=by):
                    page = self.client.get(f"/reports/?name={name}&by={by}&from=2025-07-01")
                    self.assertEqual(page.status_code, 200)
        for query in (
            "name=plan&target=3000000",
            "name=plan&target=3000000&by=owner",
            "name=forecast&simulate=1&target=100",
            "name=collection&by=deal",
        ):
            with self.subTest(query=query):
                self.assertEqual(self.client.get(f"/reports/?{query}").status_code, 200)
        page = self.client.get("/reports/?name=plan&target=3000000")
        needed = figures(page.content.decode())["fig-report"]["data"][0]["y"]
        data = report_json("plan", "--target", "3000000", "--user", "demo-admin", now=None)
        self.assertEqual(needed, [row["needed"] for row in data["rows"]])

    def test_every_report_chart_names_its_axes_and_codes_in_words(self):
        self.client.force_login(User.objects.get(username="demo-admin"))
        queries = [
            f"name={name}&from=2025-07-01"
            for name in (
                "snapshot",
                "funnel",
                "flow",
                "time_in_stage",
                "cycle",
                "win_rate",
                "forecast",
                "stage_probability",
                "diagnosis",
                "discipline",
                "collection",
                "activities",
            )
        ]
        queries += ["name=plan&target=3000000", "name=plan&target=3000000&by=owner"]
        queries += ["name=win_rate&by=owner", "name=collection&by=team"]
        # A chart of stages per group would pile the groups' bars on the same stage names:
        # those reports show their table only.
        for grouped in ("name=snapshot&by=team", "name=stage_probability&by=owner"):
            page = self.client.get(f"/reports/?{grouped}", headers={"accept-language": "en"})
            self.assertNotIn("fig-report", figures(page.content.decode()), grouped)
        drawn = {}
        for query in queries:
            page = self.client.get(f"/reports/?{query}", headers={"accept-language": "en"})
            figure = figures(page.content.decode()).get("fig-report")
            with self.subTest(query=query):
                self.assertIsNotNone(figure)
                self.assertEqual(axis_problems(figure), [])
            drawn[query] = figure
        funnel = drawn["name=funnel&from=2025-07-01"]
        self.assertEqual(funnel["data"][0]["y"][0], "Initial contact")
        # Codes are words, rates are percentages when hovered.
        diagnosis = drawn["name=diagnosis&from=2025-07-01"]["data"][0]["x"]
        words = {"Thin top", "Bottleneck", "Stuck", "Rep outlier", "Stale"}
        self.assertTrue(diagnosis and set(diagnosis) <= words, diagnosis)
        activities = drawn["name=activities&from=2025-07-01"]["data"][0]["x"]
        self.assertTrue(all(label.split(" · ")[1][0].isupper() for label in activities))
        learned = drawn["name=stage_probability&from=2025-07-01"]["layout"]["yaxis"]
        self.assertEqual(learned["hoverformat"], ".1%")

    def test_severities_and_probabilities_read_as_words_and_percentages(self):
        admin = User.objects.get(username="demo-admin")
        self.client.force_login(admin)
        for lang, words in (("en", {"High", "Medium", "Low"}), ("zh-CN", {"高", "中", "低"})):
            page = self.client.get("/reports/?name=diagnosis", headers={"accept-language": lang})
            grid = page.context["grid"]
            column = grid.headers.index("Severity" if lang == "en" else "严重程度")
            severities = {row[column] for row in grid.rows}
            self.assertTrue(severities and severities <= words, severities)
        stage = Stage.objects.get(pipeline__is_default=True, key="proposal")
        ProbabilityAdoption.objects.create(
            pipeline=stage.pipeline,
            adopted_by=admin,
            adopted_at=NOW,
            window_days=365,
            changes=[{"stage_id": stage.pk, "key": "proposal", "old": "0.2500", "new": "0.3125"}],
        )
        page = self.client.get(
            "/reports/?name=stage_probability", headers={"accept-language": "en"}
        )
        self.assertContains(page, f"{escape(stage.name_en)} 25% → 31%")
        self.assertNotContains(page, "0.2500")


class PlotlyAssetTests(SimpleTestCase):
    def test_plotly_js_is_served_from_the_installed_package(self):
        found = finders.find("loudou/vendor/plotly.min.js")
        self.assertTrue(found and found.endswith("package_data/plotly.min.js"))

    def test_the_committed_css_is_the_installed_plotlys(self):
        committed = finders.find("loudou/vendor/plotly.css")
        with open(committed, encoding="utf-8") as f:
            self.assertEqual(f.read(), plotly_css())

    def test_quarter_slices(self):
        self.assertEqual(
            [label for label, *_ in quarter_slices(dt.date(2026, 7, 1))],
            ["2025 Q3", "2025 Q4", "2026 Q1", "2026 Q2"],
        )
        label, start, stop = quarter_slices(dt.date(2026, 11, 15))[-1]
        self.assertEqual(label, "2026 Q4")
        self.assertEqual((start, stop), (dt.date(2026, 10, 1), dt.date(2027, 1, 1)))
