"""The core reports of METRICS.md as pure functions of (data, params): snapshot, funnel,
flow and win_rate here, time_in_stage and cycle in times.py, forecast in forecast.py;
``REPORTS`` names all seven.

Choices where METRICS.md is silent (also in docs/reports.md):

- A deal ever won reached every stage and won (METRICS.md), even if reopened since;
  reached open stages are never undone (history counts). Win rates count the status
  now: a deal won then reopened is open (not closed); won, reopened and lost is lost.
- Periods: funnel by creation time, flow by event time, time_in_stage by the time a stay
  ended, cycle and win_rate by closing time, forecast by expected close date (already won
  by closing time). Default period: the 365 days up to and including today; forecast's
  default is the current quarter.
- Percentiles (median, p90) interpolate linearly between the two nearest values.
- A deal's amount, owner and team are their current values (no history is kept of them).
- Weighted amounts are exact: per stage, sum of amounts × the stage's probability,
  rounded half up to cents at the end.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

import polars as pl

from .common import (
    _cents_x_bp,
    _closed_in_period,
    _groups,
    _keys,
    _named,
    _period_instants,
    _stage_fields,
    _within,
    visible_deals,
)
from .forecast import forecast
from .frames import PipelineData
from .params import ReportParams, ReportResult, money, ratio, weighted_money
from .times import cycle, time_in_stage

# ---------------------------------------------------------------------------------------
# snapshot


def snapshot(data: PipelineData, params: ReportParams) -> ReportResult:
    """Open deals per stage now, or at the end of ``as_of`` (reconstructed from events)."""
    at = params.instant(params.as_of + dt.timedelta(days=1)) if params.as_of else params.now
    current = data.latest_event_at is None or at >= data.latest_event_at
    if current:
        open_deals = visible_deals(data, params, data.open_deals).select(
            *_keys(params),
            "stage_id",
            pl.col("cur_idx").alias("idx"),
            "amount_cents",
            (pl.col("last_touch") < pl.lit(at) - pl.duration(days=pl.col("rot_days"))).alias(
                "stale"
            ),
        )
    else:
        last = (
            data.events.filter(pl.col("at") < at)
            .group_by("deal_id")
            .agg(pl.col("to_stage_id").last(), pl.col("to_idx").last(), pl.col("to_kind").last())
            .filter(pl.col("to_kind") == "open")
        )
        open_deals = (
            visible_deals(data, params)
            .join(last, left_on="id", right_on="deal_id")
            .select(
                *_keys(params),
                pl.col("to_stage_id").alias("stage_id"),
                pl.col("to_idx").alias("idx"),
                "amount_cents",
                pl.lit(None, dtype=pl.Boolean).alias("stale"),
            )
        )
    agg = open_deals.group_by(*_keys(params), "stage_id", "idx").agg(
        pl.len().alias("count"),
        pl.col("amount_cents").sum().alias("cents"),
        _cents_x_bp(data).sum().alias("cents_x_bp"),
        pl.col("stale").sum().alias("stale"),
    )
    rows = []
    for group, part in _groups(agg, params, data):
        by_idx = {r["idx"]: r for r in part}
        for stage in data.open_stages:
            r = by_idx.get(stage.index)
            cents = r["cents"] if r else 0
            rows.append(
                {
                    **group,
                    **_stage_fields(data, stage.index, params),
                    "count": r["count"] if r else 0,
                    "amount": money(cents),
                    "weighted_amount": weighted_money(r["cents_x_bp"] if r else 0),
                    "stale": (r["stale"] if r else 0) if current else None,
                }
            )
    totals = {
        "count": int(agg["count"].sum()),
        "amount": money(agg["cents"].sum()),
        "weighted_amount": weighted_money(agg["cents_x_bp"].sum()),
        "stale": int(agg["stale"].sum()) if current else None,
    }
    params_out = params.echo(as_of=(params.as_of.isoformat() if params.as_of else None))
    return ReportResult(
        "snapshot",
        params_out,
        rows,
        totals,
        [*_named(params), "stage", "stage_name", "count", "amount", "weighted_amount", "stale"],
    )


# ---------------------------------------------------------------------------------------
# funnel (cohort by creation date)


def _funnel_group(
    records: list[dict[str, Any]], data: PipelineData, params: ReportParams, group: dict
) -> list[dict[str, Any]]:
    n = data.n

    def total(pred: Callable[[dict], bool], field: str = "deals") -> int:
        return sum(r[field] or 0 for r in records if pred(r))

    reached = {k: total(lambda r, k=k: r["max_stage"] >= k) for k in range(1, n + 2)}
    rows = []
    for k in range(1, n + 2):
        is_won = k == n + 1
        closed = total(lambda r, k=k: r["status"] != "open" and r["max_stage"] >= k)
        won = total(lambda r, k=k: r["status"] == "won" and r["max_stage"] >= k)
        rows.append(
            {
                **group,
                **_stage_fields(data, k, params),
                "reached": reached[k],
                "amount": money(total(lambda r, k=k: r["max_stage"] >= k, "cents")),
                "conversion": None if is_won else ratio(reached[k + 1], reached[k]),
                "win_rate_from": None if is_won else ratio(won, closed),
                "open": total(lambda r, k=k: r["status"] == "open" and r["cur_idx"] == k),
                "lost_at": total(lambda r, k=k: r["status"] == "lost" and r["max_stage"] == k),
            }
        )
    return rows


def funnel(data: PipelineData, params: ReportParams) -> ReportResult:
    """Cohort funnel: deals created in the period, how far each got (METRICS.md)."""
    date_from, date_to, start, end = _period_instants(params)
    cohort = visible_deals(data, params).filter(_within("created_at", start, end))
    agg = (
        cohort.group_by(*_keys(params), "status", "cur_idx", "max_stage")
        .agg(pl.len().alias("deals"), pl.col("amount_cents").sum().alias("cents"))
        .with_columns(pl.col("max_stage").fill_null(0))
    )
    rows = []
    for group, part in _groups(agg, params, data):
        rows.extend(_funnel_group(part, data, params, group))
    status = dict(agg.group_by("status").agg(pl.col("deals").sum()).iter_rows())
    totals = {
        "deals": int(agg["deals"].sum()),
        "won": int(status.get("won", 0)),
        "lost": int(status.get("lost", 0)),
        "open": int(status.get("open", 0)),
        "amount": money(agg["cents"].sum()),
    }
    columns = [
        *_named(params),
        "stage",
        "stage_name",
        "reached",
        "amount",
        "conversion",
        "win_rate_from",
        "open",
        "lost_at",
    ]
    return ReportResult(
        "funnel",
        params.echo(**{"from": date_from.isoformat(), "to": date_to.isoformat()}),
        rows,
        totals,
        columns,
    )


# ---------------------------------------------------------------------------------------
# flow (by entry date)


def flow(data: PipelineData, params: ReportParams) -> ReportResult:
    """Deals entering each stage in the period (a jump passes the stages it skips) and
    what became of them: advanced past it, lost, or still open at or below it."""
    date_from, date_to, start, end = _period_instants(params)
    deals = visible_deals(data, params)
    n = data.n
    # A reopening's previous event is the deal's closing one, whose from_idx is the stage
    # the deal closed from (read before the period filter: it may have closed earlier).
    same_deal = pl.col("deal_id").shift(1) == pl.col("deal_id")
    events = (
        data.events.with_columns(
            pl.when(same_deal).then(pl.col("from_idx").shift(1)).alias("closed_from_idx")
        )
        .filter(_within("at", start, end))
        .join(deals.select(pl.col("id").alias("deal_id")), on="deal_id", how="semi")
    )
    forward_from_open = (pl.col("from_kind") == "open") & (pl.col("from_idx") < pl.col("to_idx"))
    # METRICS.md treats reopening into a stage after the one the deal closed from as a
    # move from that stage: a jump, passing the stages between (the funnel reaches them).
    reopened_forward = (pl.col("from_kind") != "open") & (
        pl.col("closed_from_idx") < pl.col("to_idx")
    )
    lo = (
        pl.when(pl.col("to_kind") == "open")
        .then(
            pl.when(pl.col("created"))
            .then(1)  # created straight into a later stage: it passed the earlier ones
            .when(forward_from_open)
            .then(pl.col("from_idx") + 1)
            .when(reopened_forward)
            .then(pl.col("closed_from_idx") + 1)
            .otherwise(pl.col("to_idx"))  # backward move, or reopening at or below
        )
        .when((pl.col("to_kind") == "won") & (pl.col("from_kind") == "open"))
        .then(pl.col("from_idx") + 1)
    )
    hi = (
        pl.when(pl.col("to_kind") == "open")
        .then(pl.col("to_idx"))
        .when(pl.col("to_kind") == "won")
        .then(n)
    )
    entered = (
        events.select("deal_id", lo.alias("lo"), hi.alias("hi"))
        .filter(pl.col("lo").is_not_null() & (pl.col("lo") <= pl.col("hi")))
        .select("deal_id", pl.int_ranges("lo", pl.col("hi") + 1).alias("k"))
        .explode("k")
        .unique()
        .join(
            deals.select(pl.col("id").alias("deal_id"), *_keys(params), "max_stage", "status"),
            on="deal_id",
        )
    )
    advanced = pl.col("max_stage").fill_null(0) > pl.col("k")
    agg = entered.group_by(*_keys(params), "k").agg(
        pl.len().alias("entered"),
        advanced.sum().alias("advanced"),
        ((~advanced) & (pl.col("status") == "lost")).sum().alias("lost"),
        ((~advanced) & (pl.col("status") == "open")).sum().alias("still_open"),
    )
    rows = []
    for group, part in _groups(agg, params, data):
        by_k = {r["k"]: r for r in part}
        for stage in data.open_stages:
            r = by_k.get(stage.index, {})
            rows.append(
                {
                    **group,
                    **_stage_fields(data, stage.index, params),
                    "entered": r.get("entered", 0),
                    "advanced": r.get("advanced", 0),
                    "lost": r.get("lost", 0),
                    "still_open": r.get("still_open", 0),
                    "flow_conversion": ratio(r.get("advanced", 0), r.get("entered", 0)),
                }
            )
    totals = {"deals": entered["deal_id"].n_unique(), "events": events.height}
    columns = [
        *_named(params),
        "stage",
        "stage_name",
        "entered",
        "advanced",
        "lost",
        "still_open",
        "flow_conversion",
    ]
    return ReportResult(
        "flow",
        params.echo(**{"from": date_from.isoformat(), "to": date_to.isoformat()}),
        rows,
        totals,
        columns,
    )


# ---------------------------------------------------------------------------------------
# win rate (deals closed in the period)


def win_rate(data: PipelineData, params: ReportParams) -> ReportResult:
    """Win rate over the period: won / (won + lost) among deals closed in it."""
    closed, period = _closed_in_period(data, params)
    agg = (
        closed.group_by(*_keys(params)).agg(
            (pl.col("status") == "won").sum().alias("won"),
            (pl.col("status") == "lost").sum().alias("lost"),
            pl.col("amount_cents").filter(pl.col("status") == "won").sum().alias("won_cents"),
            pl.col("amount_cents").filter(pl.col("status") == "lost").sum().alias("lost_cents"),
        )
        if params.by
        else None
    )

    def row(won: int, lost: int, won_cents: int | None, lost_cents: int | None) -> dict:
        return {
            "won": won,
            "lost": lost,
            "win_rate": ratio(won, won + lost),
            "won_amount": money(won_cents),
            "lost_amount": money(lost_cents),
        }

    won_mask = closed["status"] == "won"
    totals = row(
        int(won_mask.sum()),
        int((~won_mask).sum()),
        closed.filter(won_mask)["amount_cents"].sum(),
        closed.filter(~won_mask)["amount_cents"].sum(),
    )
    if agg is None:
        rows = [dict(totals)]
    else:
        rows = [
            {**group, **row(r["won"], r["lost"], r["won_cents"], r["lost_cents"])}
            for group, part in _groups(agg, params, data)
            for r in part
        ]
    columns = [*_named(params), "won", "lost", "win_rate", "won_amount", "lost_amount"]
    return ReportResult("win_rate", params.echo(**period), rows, totals, columns)


REPORTS: dict[str, Callable[[PipelineData, ReportParams], ReportResult]] = {
    "snapshot": snapshot,
    "funnel": funnel,
    "flow": flow,
    "time_in_stage": time_in_stage,
    "cycle": cycle,
    "win_rate": win_rate,
    "forecast": forecast,
}
