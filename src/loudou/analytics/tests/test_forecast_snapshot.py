"""Forecast and snapshot, hand-computed (METRICS.md, *Forecast*)."""

import datetime as dt
from decimal import Decimal

from loudou.analytics.params import ReportParams, Visibility
from loudou.analytics.reports import forecast, snapshot

from .builder import FrameBuilder, t


def pipeline():
    b = FrameBuilder()
    b.deal([("proposal", "2026-01-10T00:00")], amount=1000, expected_close="2026-02-15")
    b.deal(
        [("negotiation", "2026-01-10T00:00")],
        amount="333.33",
        expected_close="2026-02-28",
        owner="bob",
    )
    b.deal(
        [("contact", "2026-01-10T00:00")],
        amount=100,
        expected_close="2026-03-01",
        forecast_category="commit",
    )
    b.deal([("needs", "2026-01-10T00:00")], amount=100, expected_close="2026-04-01")
    b.deal([("needs", "2026-01-10T00:00")], amount=None, expected_close="2026-03-15")
    # Won at 00:30 on 1 Feb Shanghai time: February's "already won".
    b.deal([("contact", "2026-01-10T00:00"), ("won", "2026-01-31T16:30")], amount=700)
    # Won at 23:59 on 31 Dec Shanghai time: before the quarter.
    b.deal([("contact", "2025-12-01T00:00"), ("won", "2025-12-31T15:59")], amount=900)
    return b.frames().pipeline(1)


def test_hand_computed_forecast_current_quarter():
    result = forecast(pipeline(), ReportParams(now=t("2026-02-10T00:00")))
    assert result.params["from"] == "2026-01-01" and result.params["to"] == "2026-04-01"
    feb, mar = result.rows
    assert feb == {
        "period": "2026-02",
        "open_count": 2,
        "amount": Decimal("1333.33"),
        # 1000 × 0.5 + 333.33 × 0.75 = 749.9975, rounded half up to cents
        "weighted_amount": Decimal("750.00"),
        "commit": Decimal("333.33"),
        "best_case": Decimal("1000.00"),
        "pipeline": Decimal("0.00"),
        "omitted": Decimal("0.00"),
        "already_won": Decimal("700.00"),
    }
    assert mar["open_count"] == 2
    assert mar["amount"] == Decimal("100.00")
    assert mar["weighted_amount"] == Decimal("10.00")
    assert mar["commit"] == Decimal("100.00")  # the rep's override beats the stage default
    assert result.totals["weighted_amount"] == Decimal("760.00")
    assert result.totals["already_won"] == Decimal("700.00")


def test_forecast_by_quarter_and_owner():
    result = forecast(
        pipeline(), ReportParams(now=t("2026-02-10T00:00"), grain="quarter", by="owner")
    )
    assert [(r["period"], r["owner"]) for r in result.rows] == [
        ("2026-Q1", "alice"),
        ("2026-Q1", "bob"),
    ]
    assert sum(r["open_count"] for r in result.rows) == result.totals["open_count"] == 4


def touched():
    b = FrameBuilder()
    b.deal(
        [
            ("contact", "2026-01-01T00:00"),
            ("needs", "2026-01-10T00:00"),
            ("lost", "2026-01-20T00:00"),
        ]
    )
    b.deal([("contact", "2026-01-05T00:00")], amount=100)  # untouched since: stale by 25 Jan
    b.deal([("proposal", "2026-01-15T00:00")], amount=200, owner="bob")
    b.deal([("contact", "2026-01-02T00:00")], amount=50, activity="2026-01-20T00:00")
    return b.frames().pipeline(1)


def test_snapshot_now_with_stale():
    result = snapshot(touched(), ReportParams(now=t("2026-01-25T00:00")))
    rows = {r["stage"]: r for r in result.rows}
    assert rows["contact"]["count"] == 2 and rows["contact"]["amount"] == Decimal("150.00")
    assert rows["contact"]["stale"] == 1  # the other contact deal had an activity on 20 Jan
    assert rows["contact"]["weighted_amount"] == Decimal("15.00")
    assert (rows["proposal"]["count"], rows["proposal"]["stale"]) == (1, 0)
    assert rows["needs"]["count"] == 0
    assert result.totals["count"] == 3 and result.totals["stale"] == 1


def test_snapshot_as_of_a_past_date_is_rebuilt_from_events():
    result = snapshot(
        touched(), ReportParams(now=t("2026-01-25T00:00"), as_of=dt.date(2026, 1, 12))
    )
    rows = {r["stage"]: r for r in result.rows}
    assert [rows[k]["count"] for k in rows] == [2, 1, 0, 0]
    assert all(r["stale"] is None for r in result.rows)  # staleness is not kept in history
    assert result.params["as_of"] == "2026-01-12"


def test_visibility():
    data = touched()
    bob_only = snapshot(
        data, ReportParams(now=t("2026-01-25T00:00"), visibility=Visibility(all=False, user_id=2))
    )
    assert bob_only.totals["count"] == 1
    team = snapshot(
        data,
        ReportParams(
            now=t("2026-01-25T00:00"), visibility=Visibility(all=False, team_ids=frozenset({1}))
        ),
    )
    assert team.totals["count"] == 3
    nobody = snapshot(
        data, ReportParams(now=t("2026-01-25T00:00"), visibility=Visibility(all=False))
    )
    assert nobody.totals["count"] == 0


def test_now_in_another_time_zone_is_the_same_instant():
    import zoneinfo

    shanghai = t("2026-01-25T00:00").astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
    rebuilt = snapshot(touched(), ReportParams(now=shanghai - dt.timedelta(days=12)))
    assert rebuilt.totals["count"] == 3  # rebuilt from events before "now"
    assert snapshot(touched(), ReportParams(now=shanghai)).totals["stale"] == 1
