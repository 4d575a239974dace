"""The import sets no custom field: a column named like one (budget, 预算) is listed as
ignored, whatever it holds, so a value no number custom field takes (NaN, Infinity,
1e1000000) cannot reach a deal this way; the API and the deal page refuse it."""

from unittest import mock

from django.db import transaction

from loudou.deals.models import Deal
from loudou.spreadsheets import services as import_services

from .base import SheetTestCase


class CustomColumnsTests(SheetTestCase):
    def test_custom_field_columns_are_ignored(self):
        path = self.csv(
            "external_id,name,owner,created_at,budget,预算,custom.budget\n"
            "E1,一,rep,2026-01-05T09:00:00+08:00,NaN,Infinity,1e1000000\n"
            "E2,二,rep,2026-01-05T09:00:00+08:00,sNaN,-Infinity,5\n"
        )
        for fast in (False, True):
            with (
                self.subTest(fast=fast),
                mock.patch.object(import_services, "FAST", fast),
                transaction.atomic(),
            ):
                summary = self.run_import(path)
                self.assertEqual(summary.created, 2)
                self.assertEqual(summary.ignored_columns, ["budget", "预算", "custom.budget"])
                self.assertEqual(list(Deal.objects.values_list("custom", flat=True)), [{}, {}])
                transaction.set_rollback(True)
