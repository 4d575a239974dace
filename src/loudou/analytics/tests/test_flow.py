"""Stage flow by entry date, hand-computed (METRICS.md, *Stage flow*)."""

import datetime as dt

from loudou.analytics.params import ReportParams
from loudou.analytics.reports import flow

from .builder import FrameBuilder, t

FEB = {"date_from": dt.date(2026, 2, 1), "date_to": dt.date(2026, 3, 1)}
NOW = t("2026-06-01T00:00+08:00")


def data():
    b = FrameBuilder()
    # F1 jumps contact -> proposal in Feb (enters needs and proposal), wins (passes negotiation)
    b.deal(
        [
            ("contact", "2026-01-20T10:00+08:00"),
            ("proposal", "2026-02-05T10:00+08:00"),
            ("won", "2026-02-20T10:00+08:00"),
        ]
    )
    # F2 created straight into needs in Feb (passes contact), slips back to contact: open
    b.deal([("needs", "2026-02-03T10:00+08:00"), ("contact", "2026-02-10T10:00+08:00")])
    # F3 lost in Jan, reopened into contact in Feb, lost again
    b.deal(
        [
            ("contact", "2026-01-02T10:00+08:00"),
            ("lost", "2026-01-03T10:00+08:00"),
            ("contact", "2026-02-08T10:00+08:00"),
            ("lost", "2026-02-09T10:00+08:00"),
        ]
    )
    # F4 created at the first instant after the period (Shanghai midnight): out
    b.deal([("contact", "2026-03-01T00:00+08:00")])
    return b.frames().pipeline(1)


def test_hand_computed_flow():
    result = flow(data(), ReportParams(now=NOW, **FEB))
    rows = {r["stage"]: r for r in result.rows}
    assert [rows[k]["entered"] for k in rows] == [2, 2, 1, 1]
    assert [rows[k]["advanced"] for k in rows] == [1, 1, 1, 1]
    assert [rows[k]["lost"] for k in rows] == [1, 0, 0, 0]
    assert [rows[k]["still_open"] for k in rows] == [0, 1, 0, 0]
    assert [rows[k]["flow_conversion"] for k in rows] == [0.5, 0.5, 1.0, 1.0]
    for row in result.rows:
        assert row["advanced"] + row["lost"] + row["still_open"] == row["entered"]
    assert result.totals == {"deals": 3, "events": 6}


def test_empty_period():
    result = flow(
        data(), ReportParams(now=NOW, date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 2, 1))
    )
    assert all(r["entered"] == 0 and r["flow_conversion"] is None for r in result.rows)


def test_a_deal_won_then_reopened_advanced_past_every_stage_it_entered():
    """The issue's case: won, then reopened into 初步接洽. Flow counts it entering every
    stage; its max stage is won (it was won once), so it advanced past each of them, as
    the funnel says it reached them."""
    b = FrameBuilder()
    b.deal(
        [
            ("contact", "2026-02-02T10:00+08:00"),
            ("needs", "2026-02-03T10:00+08:00"),
            ("won", "2026-02-10T10:00+08:00"),
            ("contact", "2026-02-20T10:00+08:00"),
        ]
    )
    rows = {r["stage"]: r for r in flow(b.frames().pipeline(1), ReportParams(now=NOW, **FEB)).rows}
    assert [rows[k]["entered"] for k in rows] == [1, 1, 1, 1]
    assert [rows[k]["advanced"] for k in rows] == [1, 1, 1, 1]
    assert [rows[k]["still_open"] for k in rows] == [0, 0, 0, 0]
    assert [rows[k]["flow_conversion"] for k in rows] == [1.0, 1.0, 1.0, 1.0]


def test_a_reopening_past_the_stage_a_deal_closed_from_is_a_jump():
    """METRICS.md treats reopening into a stage after the one the deal closed from as a
    move from that stage: it passes the stages between, as the funnel counts them reached.
    Reopening into that stage or an earlier one enters only its target."""
    b = FrameBuilder()
    # lost at contact in January, reopened into proposal in February: passes needs
    b.deal(
        [
            ("contact", "2026-01-02T10:00+08:00"),
            ("lost", "2026-01-03T10:00+08:00"),
            ("proposal", "2026-02-08T10:00+08:00"),
        ]
    )
    # lost at proposal in January, reopened into needs in February: enters needs only
    b.deal(
        [
            ("proposal", "2026-01-02T10:00+08:00"),
            ("lost", "2026-01-03T10:00+08:00"),
            ("needs", "2026-02-08T10:00+08:00"),
        ]
    )
    rows = {r["stage"]: r for r in flow(b.frames().pipeline(1), ReportParams(now=NOW, **FEB)).rows}
    assert [rows[k]["entered"] for k in rows] == [0, 2, 1, 0]
    assert [rows[k]["advanced"] for k in rows] == [0, 2, 0, 0]
    assert [rows[k]["still_open"] for k in rows] == [0, 0, 1, 0]
