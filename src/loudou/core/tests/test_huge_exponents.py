"""Found in review: an amount written with a huge exponent (1e1000000) overflowed the
decimal context and answered 500 wherever an amount is typed: the import (both paths),
the quotas grid, a criterion's minimum, a report's target on the web and in the API.
Each is a clear refusal now, and nothing is written."""

import tempfile
from pathlib import Path
from unittest import mock

from loudou.api.tests.base import ApiTestCase
from loudou.deals.models import Deal
from loudou.people.models import Quota
from loudou.pipelines.models import ExitCriterion
from loudou.spreadsheets import services as import_services
from loudou.spreadsheets.parsing import CellError, parse_amount
from loudou.spreadsheets.services import ImportFailed, import_deals

HUGE = ["1e1000000", "1E+999999999", "9e99999万", "-1e1000000"]


class HugeExponentTests(ApiTestCase):
    def test_parse_amount_refuses_them(self):
        for text in HUGE:
            with self.subTest(text), self.assertRaises(CellError):
                parse_amount(text)

    def test_import_names_the_row(self):
        path = Path(tempfile.mkdtemp()) / "deals.csv"
        path.write_text("name,owner,amount\nBig,rep,1e1000000\n", encoding="utf-8")
        for fast in (True, False):
            with self.subTest(fast=fast), mock.patch.object(import_services, "FAST", fast):
                with self.assertRaises(ImportFailed) as caught:
                    import_deals(path=path, actor=self.admin)
                errors = caught.exception.summary.errors
                self.assertEqual([(e.row, e.column) for e in errors], [(2, "amount")])
                self.assertFalse(Deal.objects.filter(name="Big").exists())

    def test_quotas_grid(self):
        self.client.force_login(self.manager)
        response = self.client.post(
            "/settings/quotas/",
            {"year": "2026", f"t-{self.north.pk}-2026-01-01": "1e1000000"},
            headers={"accept-language": "en"},
        )
        self.assertIn(response.status_code, (200, 302, 400))
        self.assertFalse(Quota.objects.filter(team=self.north).exists())

    def test_criterion_minimum(self):
        criterion = ExitCriterion.objects.filter(stage__pipeline=self.pipeline).first()
        before = (criterion.kind, criterion.field_check, criterion.min_value)
        self.client.force_login(self.admin)
        response = self.client.post(
            f"/settings/criteria/{criterion.pk}/",
            {
                "kind": "field",
                "field_name": "amount",
                "field_check": "at_least",
                "min_value": "1e1000000",
            },
            headers={"accept-language": "en"},
            follow=True,
        )
        self.assertEqual(response.status_code, 200)
        criterion.refresh_from_db()
        self.assertEqual((criterion.kind, criterion.field_check, criterion.min_value), before)

    def test_report_target_on_the_web_and_in_the_api(self):
        self.client.force_login(self.rep)
        page = self.client.get("/reports/", {"name": "plan", "target": "1e1000000"})
        self.assertIn(page.status_code, (200, 400))
        self.assertError(
            self.call("GET", "/reports/plan?target=1e1000000", self.rep), 400, "bad_parameter"
        )
