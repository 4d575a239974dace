"""Dates, times and amounts as spreadsheets write them."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from loudou.spreadsheets.parsing import CellError, parse_amount, parse_date, parse_datetime

SH = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", dt.datetime(2024, 3, 5, tzinfo=SH)),
        ("2024-03-05 14:30", dt.datetime(2024, 3, 5, 14, 30, tzinfo=SH)),
        ("2024-03-05T14:30:15", dt.datetime(2024, 3, 5, 14, 30, 15, tzinfo=SH)),
        ("2024-03-05T06:30:00Z", dt.datetime(2024, 3, 5, 6, 30, tzinfo=dt.UTC)),
        ("2024-03-05 14:30:00.250+08:00", dt.datetime(2024, 3, 5, 14, 30, 0, 250000, tzinfo=SH)),
        ("2024/3/5", dt.datetime(2024, 3, 5, tzinfo=SH)),
        ("2024/3/5 9:05", dt.datetime(2024, 3, 5, 9, 5, tzinfo=SH)),
        ("2024年3月5日", dt.datetime(2024, 3, 5, tzinfo=SH)),
        ("2024年3月5日 9:05", dt.datetime(2024, 3, 5, 9, 5, tzinfo=SH)),
        ("3/5/2024", dt.datetime(2024, 3, 5, tzinfo=SH)),
        ("3/5/2024 2:15 PM", dt.datetime(2024, 3, 5, 14, 15, tzinfo=SH)),
        ("45356", dt.datetime(2024, 3, 5, tzinfo=SH)),
        ("45356.5", dt.datetime(2024, 3, 5, 12, tzinfo=SH)),
        (45356, dt.datetime(2024, 3, 5, tzinfo=SH)),
        (dt.datetime(2024, 3, 5, 8, 0), dt.datetime(2024, 3, 5, 8, 0, tzinfo=SH)),
        (dt.date(2024, 3, 5), dt.datetime(2024, 3, 5, tzinfo=SH)),
    ],
)
def test_datetimes(text, expected):
    assert parse_datetime(text, SH) == expected


@pytest.mark.parametrize("text", ["2024-02-30", "yesterday", "2024/13/01", "12", "3月5日"])
def test_bad_dates_say_why_in_both_languages(text):
    with pytest.raises(CellError) as info:
        parse_datetime(text, SH)
    assert "日期" in info.value.zh and "not a date" in info.value.en


def test_empty_is_none_and_dates():
    assert parse_datetime("  ", SH) is None
    assert parse_date("2024年3月5日", SH) == dt.date(2024, 3, 5)
    assert parse_date("2024-03-04T20:00:00Z", SH) == dt.date(2024, 3, 5)  # local date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", "1234.50"),
        ("1,234,567.89", "1234567.89"),
        ("¥1,234", "1234.00"),
        ("￥ 88", "88.00"),
        ("$1,000.10", "1000.10"),
        ("12万", "120000.00"),
        ("1.5万元", "15000.00"),
        ("3000元", "3000.00"),
        ("CNY 500", "500.00"),
        (250000, "250000.00"),
        (12.5, "12.50"),
    ],
)
def test_amounts(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["lots", "-5", "1.2.3", "NaN"])
def test_bad_amounts(text):
    with pytest.raises(CellError):
        parse_amount(text)
    assert parse_amount("") is None
