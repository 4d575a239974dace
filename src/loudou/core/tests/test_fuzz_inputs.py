"""Hostile input is normal input: arbitrary text in every form field and report option
gives a page or a clear 4xx, never a server error (issue 11). Property-based, bounded."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from loudou.core.testing import LoudouTestCase
from loudou.deals import services
from loudou.reports import loader

NASTY = [
    "",
    " ",
    "1e999",
    "-1e999",
    "9" * 30,
    "1e20",
    "NaN",
    "Infinity",
    "-1",
    "0",
    "0001-01-01",
    "9999-12-31",
    "2024-02-30",
    "2024-13-01T25:61",
    "0001-01-01T00:00",
    '=HYPERLINK("x")',
    "\x00",
    "'; DROP TABLE deals_deal; --",
    "<script>alert(1)</script>",
    "漏斗" * 50,
    "%s%s%n",
    "{{ 7*7 }}",
    "99999999999999.99",
]
# Any text a browser can send (no lone surrogates), or a known troublemaker.
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=60),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
REPORT_OPTIONS = [
    "pipeline", "from", "to", "as_of", "by", "target", "simulate", "probabilities", "grain",
    "sort",
]  # fmt: skip
REPORTS = [
    "snapshot", "funnel", "flow", "time_in_stage", "cycle", "win_rate", "forecast",
    "stage_probability", "plan", "diagnosis", "discipline", "collection", "activities",
]  # fmt: skip
DEAL_FIELDS = [
    "name", "account_name", "amount", "currency", "expected_close_date", "source", "owner",
    "stage", "override_reason", "custom_budget", "custom_decision_maker", "version",
    "forecast_category", "reason", "note", "type", "at", "outcome", "paid_on", "kind",
]  # fmt: skip
ACTIONS = ["edit", "move", "win", "lose", "reopen", "approve", "activities", "payments"]
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class FuzzTestCase(TestCase, LoudouTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.deal = services.create_deal(actor=cls.rep, name="Fuzzed", amount="1000")

    def assert_no_server_error(self, response, what):
        self.assertLess(response.status_code, 500, what)


class ReportFuzzTests(FuzzTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        loader.clear_cache()

    def test_every_option_with_every_known_troublemaker(self):
        self.client.force_login(self.manager)
        for i, (option, value) in enumerate(
            (o, v) for o in REPORT_OPTIONS for v in NASTY if "\x00" not in v
        ):
            name = REPORTS[i % len(REPORTS)]
            for url in ("/reports/", f"/reports/{name}.csv"):
                response = self.client.get(url, {"name": name, option: value})
                self.assert_no_server_error(response, (url, option, value))

    @FUZZ
    @given(
        name=st.sampled_from(REPORTS),
        options=st.dictionaries(st.sampled_from(REPORT_OPTIONS), VALUES, max_size=6),
        download=st.sampled_from(["page", "csv", "json"]),
    )
    def test_report_options(self, name, options, download):
        self.client.force_login(self.manager)
        url = "/reports/" if download == "page" else f"/reports/{name}.{download}"
        response = self.client.get(url, {"name": name, **options})
        self.assert_no_server_error(response, (url, options))


class FormFuzzTests(FuzzTestCase):
    def test_every_field_with_every_known_troublemaker(self):
        self.client.force_login(self.manager)
        for i, (field, value) in enumerate((f, v) for f in DEAL_FIELDS for v in NASTY):
            action = ACTIONS[i % len(ACTIONS)]
            response = self.client.post(f"/deals/{self.deal.pk}/{action}/", {field: value})
            self.assert_no_server_error(response, (action, field, value))
            base = {"name": "x", "owner": self.rep.pk, "stage": self.stages["contact"].pk}
            response = self.client.post("/deals/new/", base | {field: value})
            self.assert_no_server_error(response, (field, value))

    @FUZZ
    @given(fields=st.dictionaries(st.sampled_from(DEAL_FIELDS), VALUES, max_size=10))
    def test_new_deal_form(self, fields):
        self.client.force_login(self.rep)
        response = self.client.post("/deals/new/", fields)
        self.assert_no_server_error(response, fields)

    @FUZZ
    @given(
        action=st.sampled_from(ACTIONS),
        fields=st.dictionaries(st.sampled_from(DEAL_FIELDS), VALUES, max_size=10),
    )
    def test_deal_actions(self, action, fields):
        self.client.force_login(self.manager)
        response = self.client.post(f"/deals/{self.deal.pk}/{action}/", fields)
        self.assert_no_server_error(response, (action, fields))

    @FUZZ
    @given(query=st.dictionaries(st.sampled_from(["q", "status", "page", "owner", "pipeline"]),
                                 VALUES, max_size=4))  # fmt: skip
    def test_lists(self, query):
        self.client.force_login(self.manager)
        for url in ("/", "/deals/"):
            self.assert_no_server_error(self.client.get(url, query), (url, query))

    @FUZZ
    @given(username=VALUES, password=VALUES)
    def test_login(self, username, password):
        response = self.client.post("/login/", {"username": username, "password": password})
        self.assert_no_server_error(response, username)
