"""Time in stage, sales cycle and win rate, hand-computed (METRICS.md, *Time*, *Win rates*)."""

import datetime as dt
from decimal import Decimal

import pytest

from loudou.analytics.params import ReportParams
from loudou.analytics.reports import cycle, time_in_stage, win_rate

from .builder import FrameBuilder, t

JAN = {"date_from": dt.date(2026, 1, 1), "date_to": dt.date(2026, 2, 1)}


def stays():
    b = FrameBuilder()
    b.deal(
        [
            ("contact", "2026-01-01T00:00"),
            ("needs", "2026-01-03T00:00"),
            ("proposal", "2026-01-04T12:00"),
            ("lost", "2026-01-14T12:00"),
        ]
    )
    b.deal(
        [
            ("contact", "2026-01-01T00:00"),
            ("needs", "2026-01-05T00:00"),
            ("contact", "2026-01-06T00:00"),
            ("needs", "2026-01-08T00:00"),
        ],
        owner="bob",
    )
    # Leaves contact at 01:00 on 1 Feb Shanghai time: outside January.
    b.deal([("contact", "2026-01-30T00:00"), ("needs", "2026-01-31T17:00")], owner="bob")
    return b.frames().pipeline(1)


def test_hand_computed_time_in_stage():
    result = time_in_stage(stays(), ReportParams(now=t("2026-02-01T00:00"), **JAN))
    rows = {r["stage"]: r for r in result.rows}
    contact, needs = rows["contact"], rows["needs"]
    assert (contact["count"], contact["median_days"]) == (3, 2.0)
    assert contact["mean_days"] == pytest.approx(8 / 3, abs=1e-4)
    assert contact["p90_days"] == pytest.approx(3.6)
    assert (needs["count"], needs["mean_days"], needs["median_days"]) == (2, 1.25, 1.25)
    assert needs["p90_days"] == pytest.approx(1.45)
    assert (rows["proposal"]["count"], rows["proposal"]["p90_days"]) == (1, 10.0)
    assert rows["negotiation"]["count"] == 0
    assert rows["negotiation"]["median_days"] is None
    # The open deals' current stays are shown apart, not in the statistics.
    assert needs["open_count"] == 2
    assert needs["open_median_age_days"] == pytest.approx((24 + 7 / 24) / 2, abs=1e-4)
    assert result.totals["count"] == 6


def closed():
    b = FrameBuilder(names={"bob": "Bob Brown"})
    b.deal([("contact", "2026-01-01T00:00"), ("won", "2026-01-11T00:00")], amount=1000)
    b.deal([("contact", "2026-01-01T00:00"), ("won", "2026-01-21T00:00")], amount=500, owner="bob")
    b.deal([("contact", "2026-01-01T00:00"), ("lost", "2026-01-02T12:00")], amount=None)
    # Closed at 00:30 on 1 Feb Shanghai time: counts in February, not January.
    b.deal([("contact", "2026-01-01T00:00"), ("won", "2026-01-31T16:30")], amount=7)
    b.deal([("contact", "2026-01-01T00:00")])  # open: not in cycle or win rate
    return b.frames().pipeline(1)


def test_hand_computed_cycle():
    result = cycle(closed(), ReportParams(now=t("2026-03-01T00:00"), **JAN))
    won, lost = result.rows
    assert won == {
        "outcome": "won",
        "count": 2,
        "mean_days": 15.0,
        "median_days": 15.0,
        "p90_days": 19.0,
    }
    assert lost == {
        "outcome": "lost",
        "count": 1,
        "mean_days": 1.5,
        "median_days": 1.5,
        "p90_days": 1.5,
    }
    assert result.totals["won"]["count"] == 2


def test_cycle_grouped_and_empty():
    result = cycle(closed(), ReportParams(now=t("2026-03-01T00:00"), by="owner", **JAN))
    bob = [r for r in result.rows if r["owner"] == "bob"]
    assert bob == [
        {
            "owner": "bob",
            "owner_name": "Bob Brown",  # the display name beside the username
            "outcome": "won",
            "count": 1,
            "mean_days": 20.0,
            "median_days": 20.0,
            "p90_days": 20.0,
        },
        {
            "owner": "bob",
            "owner_name": "Bob Brown",
            "outcome": "lost",
            "count": 0,
            "mean_days": None,
            "median_days": None,
            "p90_days": None,
        },
    ]


def test_hand_computed_win_rate():
    result = win_rate(closed(), ReportParams(now=t("2026-03-01T00:00"), **JAN))
    assert result.rows == [
        {
            "won": 2,
            "lost": 1,
            "win_rate": 2 / 3,
            "won_amount": Decimal("1500.00"),
            "lost_amount": Decimal("0.00"),
        }
    ]
    feb = win_rate(
        closed(),
        ReportParams(
            now=t("2026-03-01T00:00"), date_from=dt.date(2026, 2, 1), date_to=dt.date(2026, 3, 1)
        ),
    )
    assert feb.rows[0]["won"] == 1 and feb.rows[0]["won_amount"] == Decimal("7.00")
    empty = win_rate(
        closed(),
        ReportParams(
            now=t("2026-03-01T00:00"), date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 2, 1)
        ),
    )
    assert empty.rows[0]["win_rate"] is None


def test_win_rate_by_owner_sums():
    result = win_rate(closed(), ReportParams(now=t("2026-03-01T00:00"), by="owner", **JAN))
    assert sum(r["won"] for r in result.rows) == result.totals["won"]
    assert sum(r["lost"] for r in result.rows) == result.totals["lost"]
