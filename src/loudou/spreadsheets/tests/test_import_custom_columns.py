"""A custom-field column of an import goes through the same check as the deal page and the
API (deals.values.clean_custom): a value no number field takes (NaN, Infinity, sNaN,
1e1000000) is refused by row and column, and nothing is written, on both import paths."""

from unittest import mock

from loudou.deals.models import Deal
from loudou.spreadsheets import services as import_services

from .base import SheetTestCase

BAD = ["NaN", "Infinity", "sNaN", "1e1000000", "-Infinity"]


class CustomColumnsTests(SheetTestCase):
    def test_values_no_number_field_takes_are_refused(self):
        # The default pipeline's budget (预算) is a number custom field.
        lines = ["external_id,name,owner,created_at,budget"]
        lines += [f"E{i},d{i},rep,2026-01-05T09:00:00+08:00,{v}" for i, v in enumerate(BAD)]
        path = self.csv("\n".join(lines) + "\n")
        for fast in (False, True):
            with self.subTest(fast=fast), mock.patch.object(import_services, "FAST", fast):
                summary = self.failing(path)
                self.assertEqual(
                    sorted(e.row for e in summary.errors), list(range(2, 2 + len(BAD)))
                )
                self.assertEqual({e.column for e in summary.errors}, {"budget"})
                self.assertFalse(Deal.objects.filter(external_id__startswith="E").exists())
