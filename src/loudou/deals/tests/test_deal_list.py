"""The deal list: filters, sorting, totals; the export downloads exactly the filtered list."""

import csv
import datetime as dt
import io
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loudou.activities.services import schedule_next_step
from loudou.core.testing import LoudouTestCase, ago
from loudou.deals import services


def shown(response):
    return [d.name for d in response.context["page"]]


class ListTests(LoudouTestCase):
    def setUp(self):
        self.client.force_login(self.manager)
        today = timezone.localdate()
        self.a = self.make_deal(
            name="Alpha", amount="300", source="展会", expected_close_date=today
        )
        self.b = self.make_deal(
            owner=self.teammate,
            name="Beta",
            amount="100",
            expected_close_date=today - dt.timedelta(days=3),
        )
        self.c = self.make_deal(name="Gamma", amount="200", at=ago(90))
        self.d = self.make_deal(name="Delta", amount="50")
        services.lose_deal(actor=self.rep, deal=self.d, reason=self.price)
        self.make_deal(owner=self.outsider, name="South")
        schedule_next_step(actor=self.rep, deal=self.a, type="call", due_at=ago(1))

    def test_filters(self):
        cases = {
            "status=lost": {"Delta"},
            f"stage={self.stages['contact'].pk}&status=open": {"Alpha", "Beta", "Gamma"},
            f"owner={self.teammate.pk}": {"Beta"},
            f"team={self.north.pk}": {"Alpha", "Beta", "Gamma", "Delta"},
            "source=展会": {"Alpha"},
            "period=overdue": {"Beta"},
            "stale=1": {"Gamma"},
            "no_next_step=1": {"Beta", "Gamma"},
            "q=gam": {"Gamma"},
            "status=bogus&sort=bogus&stage=x": {"Alpha", "Beta", "Gamma", "Delta"},
        }
        for query, expected in cases.items():
            with self.subTest(query=query):
                response = self.client.get(f"/deals/?{query}")
                self.assertEqual(response.status_code, 200)
                self.assertEqual(set(shown(response)), expected)

    def test_sorting_and_totals(self):
        response = self.client.get("/deals/?sort=amount&status=open")
        self.assertEqual(shown(response), ["Beta", "Gamma", "Alpha"])
        response = self.client.get("/deals/?sort=-amount&status=open")
        self.assertEqual(shown(response), ["Alpha", "Gamma", "Beta"])
        totals = response.context["totals"]
        probability = self.stages["contact"].probability
        self.assertEqual(totals["count"], 3)
        self.assertEqual(totals["amount"], Decimal("600"))
        self.assertEqual(
            totals["weighted"], (Decimal("600") * probability).quantize(Decimal("0.01"))
        )

    def test_export_is_exactly_the_filtered_list(self):
        response = self.client.get("/deals/?source=展会")
        self.assertContains(response, "/export/deals.csv?source=")
        # In English: the import format's headers (zh-Hans: test_export_languages).
        en = {"accept-language": "en"}
        export = self.client.get("/export/deals.csv?source=展会&sort=-created_at", headers=en)
        self.assertEqual(export.status_code, 200)
        rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
        self.assertEqual([r["name"] for r in rows], ["Alpha"])
        everything = self.client.get("/export/deals.csv", headers=en)
        rows = list(csv.DictReader(io.StringIO(everything.content.decode("utf-8-sig"))))
        self.assertEqual({r["name"] for r in rows}, {"Alpha", "Beta", "Gamma", "Delta"})
        history = self.client.get("/export/history.csv?status=lost")
        self.assertEqual(history.status_code, 200)
        self.assertNotIn("Alpha", history.content.decode("utf-8-sig"))

    def test_export_rows_come_in_the_lists_order(self):
        # The export link carries the list's sort: the file must be the list as shown.
        en = {"accept-language": "en"}
        for sort in ("amount", "-amount", "name", "-name", "owner", "-created_at", "stage"):
            with self.subTest(sort=sort):
                listed = shown(self.client.get(f"/deals/?sort={sort}"))
                export = self.client.get(f"/export/deals.csv?sort={sort}", headers=en)
                rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
                self.assertEqual([r["name"] for r in rows], listed)
        self.assertEqual(
            shown(self.client.get("/deals/?sort=-amount")), ["Alpha", "Gamma", "Beta", "Delta"]
        )

    def test_query_count_is_constant(self):
        with CaptureQueriesContext(connection) as few:
            self.client.get("/deals/?sort=owner")
        for i in range(15):
            self.make_deal(name=f"e{i}", account=self.account)
        with self.assertNumQueries(len(few)):
            self.client.get("/deals/?sort=owner")
