"""/api/v1/reports/{name}: the options and the JSON of `loudou report`, over the deals the
caller may see."""

import io
import json
from urllib.parse import quote

from django.core.management import call_command
from django.test import TransactionTestCase

from loudou.api.tokens import create_token
from loudou.deals import services
from loudou.people.models import Role, Team, User
from loudou.reports import loader

NOW = "2026-06-30T12:00:00+08:00"


class ReportApiTests(TransactionTestCase):
    serialized_rollback = True

    def setUp(self):
        loader.clear_cache()
        manager = User.objects.create_user(username="m", role=Role.MANAGER)
        team = Team.objects.create(name="North", manager=manager)
        self.rep = User.objects.create_user(username="rep", team=team)
        other = User.objects.create_user(username="other")
        services.create_deal(actor=self.rep, name="mine", amount="100", source="expo")
        services.create_deal(actor=other, name="theirs", amount="900")
        _t, raw = create_token(actor=None, user=self.rep)
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "en"}

    def tearDown(self):
        loader.clear_cache()

    def get(self, path: str):
        return self.client.get(f"/api/v1/reports{path}", **self.auth)

    def test_same_json_as_the_command(self):
        for name, query, args in [
            ("snapshot", "by=source", ["--by", "source"]),
            (
                "funnel",
                "from=2025-01-01&to=2027-01-01",
                ["--from", "2025-01-01", "--to", "2027-01-01"],
            ),
            ("plan", "target=120万", ["--target", "120万"]),
        ]:
            response = self.get(f"/{name}?now={quote(NOW)}&{query}")
            self.assertEqual(response.status_code, 200, response.content)
            out = io.StringIO()
            call_command(
                "report",
                name,
                *args,
                "--now",
                NOW,
                "--user",
                "rep",
                "--format",
                "json",
                "--lang",
                "en",
                stdout=out,
            )
            self.assertEqual(response.json(), json.loads(out.getvalue()), name)
        snapshot = self.get("/snapshot").json()
        self.assertEqual(snapshot["totals"]["amount"], "100.00")  # only the rep's own deal

    def test_bad_options_are_400_with_the_commands_message(self):
        for query, message in [
            ("/funnel?by=colour", "by: one of owner"),
            ("/funnel?from=2026-02-30", "from: not a date"),
            ("/funnel?by=deal", "collection report only"),
            ("/plan?target=lots", "target: not an amount"),
            ("/forecast?runs=5", "runs"),
            ("/funnel?pipeline=nope", "no pipeline"),
        ]:
            response = self.get(query)
            self.assertEqual(response.status_code, 400, query)
            self.assertIn(message, response.json()["message"], query)
        self.assertEqual(self.get("/nope").status_code, 400)
        self.assertEqual(self.client.get("/api/v1/reports/funnel").status_code, 401)

    def test_catalog(self):
        names = {r["name"]: r["options"] for r in self.get("").json()}
        self.assertIn("target", names["plan"])
        self.assertNotIn("by", names["diagnosis"])
