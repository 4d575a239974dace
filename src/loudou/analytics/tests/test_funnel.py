"""Cohort funnel, hand-computed (METRICS.md, *Cohort funnel*)."""

import datetime as dt
from decimal import Decimal

from loudou.analytics.params import ReportParams
from loudou.analytics.reports import funnel

from .builder import FrameBuilder, t

NOW = t("2026-06-01T00:00+08:00")
Q1 = {"date_from": dt.date(2026, 1, 1), "date_to": dt.date(2026, 4, 1)}


def cohort() -> FrameBuilder:
    b = FrameBuilder()
    # D1 straight through to won
    b.deal(
        [
            ("contact", "2026-01-05T10:00+08:00"),
            ("needs", "2026-01-10T10:00+08:00"),
            ("proposal", "2026-01-20T10:00+08:00"),
            ("negotiation", "2026-02-01T10:00+08:00"),
            ("won", "2026-02-10T10:00+08:00"),
        ],
        amount=100,
    )
    # D2 skips needs, lost at proposal
    b.deal(
        [
            ("contact", "2026-01-06T10:00+08:00"),
            ("proposal", "2026-01-08T10:00+08:00"),
            ("lost", "2026-01-30T10:00+08:00"),
        ],
        amount=200,
    )
    # D3 slips back from proposal to needs, then lost: max stage stays proposal
    b.deal(
        [
            ("contact", "2026-01-07T10:00+08:00"),
            ("needs", "2026-01-09T10:00+08:00"),
            ("proposal", "2026-01-12T10:00+08:00"),
            ("needs", "2026-01-15T10:00+08:00"),
            ("lost", "2026-01-25T10:00+08:00"),
        ],
        owner="bob",
        amount=300,
    )
    # D4 lost at contact, reopened, now open in needs; no amount
    b.deal(
        [
            ("contact", "2026-01-08T10:00+08:00"),
            ("lost", "2026-01-09T10:00+08:00"),
            ("contact", "2026-02-01T10:00+08:00"),
            ("needs", "2026-02-05T10:00+08:00"),
        ],
        owner="bob",
        amount=None,
    )
    # D5 created in needs, won, reopened into negotiation: it reached won (it was won once),
    # but it is open now, so win rates leave it out until it closes again
    b.deal(
        [
            ("needs", "2026-02-01T10:00+08:00"),
            ("negotiation", "2026-02-10T10:00+08:00"),
            ("won", "2026-02-20T10:00+08:00"),
            ("negotiation", "2026-03-01T10:00+08:00"),
        ],
        amount=500,
    )
    # D6 lost at negotiation
    b.deal(
        [
            ("contact", "2026-02-02T10:00+08:00"),
            ("needs", "2026-02-03T10:00+08:00"),
            ("proposal", "2026-02-04T10:00+08:00"),
            ("negotiation", "2026-02-05T10:00+08:00"),
            ("lost", "2026-02-06T10:00+08:00"),
        ],
        owner="bob",
        amount=50,
    )
    # D7 lost at contact
    b.deal([("contact", "2026-03-01T10:00+08:00"), ("lost", "2026-03-02T10:00+08:00")], amount=10)
    # D11 lost at needs (a loss at every open stage is in this cohort)
    b.deal(
        [
            ("contact", "2026-03-05T10:00+08:00"),
            ("needs", "2026-03-06T10:00+08:00"),
            ("lost", "2026-03-07T10:00+08:00"),
        ],
        owner="bob",
        amount=40,
    )
    # Boundaries in Asia/Shanghai: 23:30 on 31 Dec is out; 00:10 on 1 Jan is in (D9);
    # 00:00 on 1 Apr is out (half-open period).
    b.deal([("contact", "2025-12-31T23:30+08:00")], amount=1000)
    b.deal([("contact", "2026-01-01T00:10+08:00")], owner="bob", amount=20)
    b.deal([("contact", "2026-04-01T00:00+08:00")], amount=1000)
    return b


def rows_by_stage(result):
    return {r["stage"]: r for r in result.rows}


def test_hand_computed_cohort_funnel():
    result = funnel(cohort().frames().pipeline(1), ReportParams(now=NOW, **Q1))
    rows = rows_by_stage(result)
    assert [r["stage"] for r in result.rows] == [
        "contact",
        "needs",
        "proposal",
        "negotiation",
        "won",
    ]
    assert [rows[k]["reached"] for k in rows] == [9, 7, 5, 3, 2]
    assert [rows[k]["amount"] for k in rows] == [
        Decimal("1220.00"),
        Decimal("1190.00"),
        Decimal("1150.00"),
        Decimal("650.00"),
        Decimal("600.00"),
    ]
    assert [rows[k]["conversion"] for k in rows] == [7 / 9, 5 / 7, 3 / 5, 2 / 3, None]
    assert [rows[k]["win_rate_from"] for k in rows] == [1 / 6, 1 / 5, 1 / 4, 1 / 2, None]
    assert [rows[k]["open"] for k in rows] == [1, 1, 0, 1, 0]
    assert [rows[k]["lost_at"] for k in rows] == [1, 1, 2, 1, 0]
    assert result.totals == {
        "deals": 9,
        "won": 1,
        "lost": 5,
        "open": 3,
        "amount": Decimal("1220.00"),
    }
    assert result.params["from"] == "2026-01-01" and result.params["to"] == "2026-04-01"


def test_grouped_by_owner_sums_to_the_whole():
    data = cohort().frames().pipeline(1)
    whole = rows_by_stage(funnel(data, ReportParams(now=NOW, **Q1)))
    grouped = funnel(data, ReportParams(now=NOW, by="owner", **Q1))
    assert {r["owner"] for r in grouped.rows} == {"alice", "bob"}
    for key, row in whole.items():
        parts = [r for r in grouped.rows if r["stage"] == key]
        for field in ("reached", "amount", "open", "lost_at"):
            assert sum(p[field] for p in parts) == row[field], (key, field)
    bob = {r["stage"]: r for r in grouped.rows if r["owner"] == "bob"}
    assert [bob[k]["reached"] for k in bob] == [5, 4, 2, 1, 0]
    assert bob["negotiation"]["conversion"] == 0.0
    assert bob["negotiation"]["win_rate_from"] == 0.0


def test_empty_cohort_gives_nulls_not_zeros():
    data = cohort().frames().pipeline(1)
    result = funnel(
        data, ReportParams(now=NOW, date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 2, 1))
    )
    assert all(r["reached"] == 0 for r in result.rows)
    assert all(r["conversion"] is None and r["win_rate_from"] is None for r in result.rows)
    assert result.totals["deals"] == 0
    assert result.totals["amount"] == Decimal("0.00")


def test_filters():
    data = cohort().frames().pipeline(1)
    bob = funnel(data, ReportParams(now=NOW, owner="bob", **Q1))
    assert bob.rows[0]["reached"] == 5
    nobody = funnel(data, ReportParams(now=NOW, owner="carol", **Q1))
    assert nobody.rows[0]["reached"] == 0


def test_a_deal_ever_won_reached_every_stage_and_won():
    """METRICS.md: a deal won once reached every stage and won, even if reopened later;
    win rates still count the status now (won then reopened is open, not closed; won,
    reopened and lost is lost)."""
    b = FrameBuilder()
    # R1 won straight from contact, reopened back into contact: open now
    b.deal(
        [
            ("contact", "2026-01-05T10:00+08:00"),
            ("won", "2026-01-10T10:00+08:00"),
            ("contact", "2026-01-20T10:00+08:00"),
        ],
        amount=100,
    )
    # R2 won from needs, reopened into needs, then lost: lost now, with max stage won
    b.deal(
        [
            ("contact", "2026-01-06T10:00+08:00"),
            ("needs", "2026-01-07T10:00+08:00"),
            ("won", "2026-01-08T10:00+08:00"),
            ("needs", "2026-01-15T10:00+08:00"),
            ("lost", "2026-01-25T10:00+08:00"),
        ],
        amount=200,
    )
    # R3 lost at contact
    b.deal([("contact", "2026-01-07T10:00+08:00"), ("lost", "2026-01-08T10:00+08:00")], amount=10)
    rows = rows_by_stage(funnel(b.frames().pipeline(1), ReportParams(now=NOW, **Q1)))
    assert [rows[k]["reached"] for k in rows] == [3, 2, 2, 2, 2]
    assert [rows[k]["amount"] for k in rows] == [Decimal("310.00")] + [Decimal("300.00")] * 4
    assert [rows[k]["conversion"] for k in rows] == [2 / 3, 1.0, 1.0, 1.0, None]
    # Closed now: R2 (lost) and R3 (lost); R1 is open again and left out.
    assert [rows[k]["win_rate_from"] for k in rows] == [0.0, 0.0, 0.0, 0.0, None]
    assert [rows[k]["open"] for k in rows] == [1, 0, 0, 0, 0]
    # R2 was lost with max stage won: it counts on the won row, not at an open stage.
    assert [rows[k]["lost_at"] for k in rows] == [1, 0, 0, 0, 1]
