"""Dialect-aware helpers agree with Django's own behaviour."""

import datetime as dt
import zoneinfo

from django.db import connection, transaction
from django.test import TestCase

from loudou.core.db import datetime_adapter, reserve_ids


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
