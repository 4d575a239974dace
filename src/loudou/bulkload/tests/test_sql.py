"""Dialect-aware helpers agree with Django's own behaviour."""

import datetime as dt
import zoneinfo

from django.db import connection, transaction
from django.test import TestCase

from loudou.bulkload.indexes import DeferredIndexes
from loudou.bulkload.sql import datetime_adapter, datetime_column, decimal_column, reserve_ids


class DbHelperTests(TestCase):
    def test_datetime_adapter_matches_django(self):
        adapt = datetime_adapter(connection)
        shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
        for value in (
            dt.datetime(2024, 1, 5, 9, 0, tzinfo=shanghai),
            dt.datetime(2024, 1, 5, 9, 0, 0, 250, tzinfo=dt.UTC),
            dt.datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=shanghai),
            None,
        ):
            self.assertEqual(adapt(value), connection.ops.adapt_datetimefield_value(value))

    def test_reserve_ids_are_fresh(self):
        with transaction.atomic():
            first = reserve_ids(connection, "deals_deal", 3)
            self.assertEqual(len(set(first)), 3)
            self.assertEqual(reserve_ids(connection, "deals_deal", 0), [])

    def test_column_adapters_match_the_row_adapters(self):
        import polars as pl

        values = [
            dt.datetime(2024, 1, 5, 1, 0, tzinfo=dt.UTC),
            dt.datetime(2024, 1, 5, 1, 0, 0, 250, tzinfo=dt.UTC),
            None,
        ]
        column = pl.Series(values, dtype=pl.Datetime("us", "UTC"))
        adapt = datetime_adapter(connection)
        self.assertEqual(datetime_column(connection, column), [adapt(v) for v in values])
        amounts = decimal_column(connection, pl.Series(["12.50", None]))
        self.assertEqual([str(a) if a is not None else None for a in amounts], ["12.50", None])

    def test_deferred_indexes_come_back(self):
        def names() -> set[str]:
            with connection.cursor() as cursor:
                return set(connection.introspection.get_constraints(cursor, "deals_deal"))

        before = names()
        with transaction.atomic():
            indexes = DeferredIndexes(connection, ["deals_deal"], keep=set())
            indexes.drop()
            if connection.vendor == "sqlite":
                self.assertLess(len(names()), len(before))
            indexes.rebuild()
        self.assertEqual(names(), before)
