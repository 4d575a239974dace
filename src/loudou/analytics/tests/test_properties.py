"""Properties on random event logs (hypothesis): monotone funnels, rates in [0, 1],
grouped rows summing to the whole."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loudou.analytics.params import ReportParams
from loudou.analytics.reports import (
    REPORTS,
    cycle,
    flow,
    forecast,
    funnel,
    snapshot,
    time_in_stage,
    win_rate,
)

from .builder import FrameBuilder

OPEN = ["contact", "needs", "proposal", "negotiation"]
START = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
RATES = ("conversion", "win_rate_from", "flow_conversion", "win_rate")


@st.composite
def deal_paths(draw):
    """A plausible stage path: any open stage moves to any stage; closed ones may reopen."""
    at = START + dt.timedelta(hours=draw(st.integers(0, 24 * 365)))
    path = [(draw(st.sampled_from(OPEN)), at)]
    for _ in range(draw(st.integers(0, 6))):
        at = at + dt.timedelta(hours=draw(st.integers(1, 24 * 40)))
        current = path[-1][0]
        choices = [s for s in [*OPEN, "won", "lost"] if s != current]
        if current in ("won", "lost"):
            choices = OPEN
        path.append((draw(st.sampled_from(choices)), at))
    return [(key, when.isoformat()) for key, when in path]


@st.composite
def logs(draw):
    builder = FrameBuilder()
    for _ in range(draw(st.integers(0, 25))):
        builder.deal(
            draw(deal_paths()),
            owner=draw(st.sampled_from(["ann", "ben", "cai"])),
            team=None,
            amount=draw(st.one_of(st.none(), st.integers(0, 10_000))),
            source=draw(st.sampled_from(["", "web", "fair"])),
            expected_close=draw(st.sampled_from([None, "2026-07-15", "2026-08-20"])),
        )
    return builder.frames().pipeline(1)


PERIOD = {"date_from": dt.date(2025, 6, 1), "date_to": dt.date(2026, 7, 1)}
CHECK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@CHECK
@given(logs())
def test_reached_is_non_increasing_and_rates_are_fractions(data):
    for name, report in REPORTS.items():
        result = report(data, ReportParams(now=NOW, **PERIOD))
        for row in result.rows:
            for rate in RATES:
                if rate in row and row[rate] is not None:
                    assert 0 <= row[rate] <= 1, (name, rate, row)
    reached = [r["reached"] for r in funnel(data, ReportParams(now=NOW, **PERIOD)).rows]
    assert reached == sorted(reached, reverse=True)


SUMMED = {
    funnel: ("reached", "amount", "open", "lost_at"),
    flow: ("entered", "advanced", "lost", "still_open"),
    snapshot: ("count", "amount", "stale"),
    time_in_stage: ("count", "open_count"),
    cycle: ("count",),
    win_rate: ("won", "lost", "won_amount", "lost_amount"),
    forecast: ("open_count", "amount", "commit", "best_case", "pipeline", "already_won"),
}
ROW_KEY = {
    funnel: "stage",
    flow: "stage",
    snapshot: "stage",
    time_in_stage: "stage",
    cycle: "outcome",
    win_rate: None,
    forecast: "period",
}


@CHECK
@given(logs(), st.sampled_from(["owner", "source"]))
def test_grouped_rows_sum_to_the_ungrouped_rows(data, by):
    now = dt.datetime(2026, 7, 10, tzinfo=dt.UTC)
    for report, fields in SUMMED.items():
        params = {"now": now, **({} if report is forecast else PERIOD)}
        if report is forecast:
            params.update(date_from=dt.date(2026, 7, 1), date_to=dt.date(2026, 9, 1))
        whole = report(data, ReportParams(**params)).rows
        parts = report(data, ReportParams(by=by, **params)).rows
        key = ROW_KEY[report]
        for row in whole:
            mine = [p for p in parts if key is None or p[key] == row[key]]
            for field in fields:
                if row[field] is None:  # e.g. staleness of a snapshot rebuilt from history
                    assert all(p[field] is None for p in mine)
                    continue
                assert sum(p[field] for p in mine) == row[field], (report.__name__, field)


@CHECK
@given(logs())
def test_flow_partitions_entered(data):
    for row in flow(data, ReportParams(now=NOW, **PERIOD)).rows:
        assert row["advanced"] + row["lost"] + row["still_open"] == row["entered"]


ALL_TIME = {"date_from": dt.date(2025, 1, 1), "date_to": dt.date(2028, 1, 1)}


@CHECK
@given(logs())
def test_funnel_and_flow_agree_on_reached_over_all_time(data):
    """Over a period holding every event, the deals flow saw entering stage k are the
    deals the funnel says reached k, and those that advanced past k reached k + 1."""
    params = ReportParams(now=NOW, **ALL_TIME)
    reached = [r["reached"] for r in funnel(data, params).rows]
    rows = flow(data, params).rows
    assert [r["entered"] for r in rows] == reached[:-1]
    assert [r["advanced"] for r in rows] == reached[1:]
