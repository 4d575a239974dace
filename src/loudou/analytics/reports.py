"""The core reports of METRICS.md as pure functions of (data, params).

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
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import polars as pl

from .frames import PipelineData
from .history import probabilities_for
from .params import ParamError, ReportParams, ReportResult, money, ratio, weighted_money
from .stats import percentiles, simulate_sums

CENT = Decimal("0.01")


# ---------------------------------------------------------------------------------------
# Shared selection and grouping


GROUP_COLUMNS = {"owner": "owner_id", "team": "team_id", "source": "source"}


def _id_of(names: dict[int, str], name: str) -> int:
    return next((i for i, n in names.items() if n == name), -1)


def visible_deals(
    data: PipelineData, params: ReportParams, deals: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The pipeline's deals the asking user may see, after the owner/team/source filters."""
    deals = data.deals if deals is None else deals
    vis = params.visibility
    if not vis.all:
        allowed = pl.col("owner_id") == (vis.user_id if vis.user_id is not None else -1)
        if vis.team_ids:
            allowed = allowed | pl.col("team_id").is_in(sorted(vis.team_ids))
        deals = deals.filter(allowed)
    if params.owner:
        deals = deals.filter(pl.col("owner_id") == _id_of(data.owner_names, params.owner))
    if params.team:
        deals = deals.filter(pl.col("team_id") == _id_of(data.team_names, params.team))
    if params.source:
        deals = deals.filter(pl.col("source") == params.source)
    return deals


def _keys(params: ReportParams) -> list[str]:
    """The column rows are grouped by (ids for owner and team; names come at the end)."""
    if params.by and params.by not in GROUP_COLUMNS:  # "deal": collection's own grouping
        raise ParamError(
            f"by: {params.by} is for the collection report only",
            f"by：{params.by} 只适用于回款报表（collection）",
        )
    return [GROUP_COLUMNS[params.by]] if params.by else []


def _named(params: ReportParams) -> list[str]:
    """The group field as it appears in output rows: owner, team or source."""
    return [params.by] if params.by else []


def _label(data: PipelineData, params: ReportParams, value: object) -> object:
    if value is None:
        return None
    if params.by == "owner":
        return data.owner_names.get(value, str(value))
    if params.by == "team":
        return data.team_names.get(value, str(value))
    return value


def _groups(
    frame: pl.DataFrame, params: ReportParams, data: PipelineData
) -> Iterator[tuple[dict, list[dict[str, Any]]]]:
    """({by: name}, that group's rows as dicts), in name order, the unnamed group last.

    The frame is a small aggregate: it is turned into Python once and grouped there
    (splitting it into one frame per group cost more than the aggregation)."""
    rows = frame.to_dicts()
    if not params.by:
        yield {}, rows
        return
    column = GROUP_COLUMNS[params.by]
    grouped: dict[object, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row[column], []).append(row)
    named = [(_label(data, params, key), part) for key, part in grouped.items()]
    for name, part in sorted(named, key=lambda kv: (kv[0] is None, kv[0] or "")):
        yield {params.by: name}, part


def _within(column: str, start: dt.datetime, end: dt.datetime) -> pl.Expr:
    return (pl.col(column) >= start) & (pl.col(column) < end)


def _period_instants(params: ReportParams) -> tuple[dt.date, dt.date, dt.datetime, dt.datetime]:
    date_from, date_to = params.period()
    return date_from, date_to, params.instant(date_from), params.instant(date_to)


def _cents_x_bp(data: PipelineData, probabilities: dict[int, Decimal] | None = None) -> pl.Expr:
    """Per deal: amount in cents × its stage's probability in basis points, as Int128 so
    sums over any number of deals stay exact."""
    chosen = data.probabilities if probabilities is None else probabilities
    bp = {stage_id: int(p * 10_000) for stage_id, p in chosen.items()}
    return pl.col("amount_cents").fill_null(0).cast(pl.Int128) * pl.col("stage_id").replace_strict(
        bp, default=0, return_dtype=pl.Int128
    )


def _stats_exprs(column: str = "days") -> list[pl.Expr]:
    """count, mean, median, p90 of ``column`` (null where there are no values)."""
    col = pl.col(column)
    return [
        pl.len().alias("count"),
        col.mean().round(4).alias("mean_days"),
        col.quantile(0.5, interpolation="linear").round(4).alias("median_days"),
        col.quantile(0.9, interpolation="linear").round(4).alias("p90_days"),
    ]


def _stage_fields(data: PipelineData, index: int, params: ReportParams) -> dict[str, Any]:
    stage = data.stage_by_index(index)
    return {"stage": stage.key, "stage_name": stage.name(params.lang)}


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
# time in stage


def time_in_stage(data: PipelineData, params: ReportParams) -> ReportResult:
    """Completed stays per open stage (ended in the period): count, mean, median, p90 days;
    beside them, the open deals' current age in stage (not part of the statistics)."""
    date_from, date_to, start, end = _period_instants(params)
    deals = visible_deals(data, params)
    stays = data.stays.filter(_within("exited_at", start, end)).join(
        deals.select(pl.col("id").alias("deal_id"), *_keys(params)), on="deal_id"
    )
    agg = stays.group_by(*_keys(params), "stage_idx").agg(_stats_exprs())
    ages = (
        deals.filter(pl.col("status") == "open")
        .select(
            *_keys(params),
            pl.col("cur_idx").alias("stage_idx"),
            ((pl.lit(params.now) - pl.col("stage_entered_at")).dt.total_microseconds() / 86_400e6)
            .clip(lower_bound=0)
            .alias("age"),
        )
        .group_by(*_keys(params), "stage_idx")
        .agg(
            pl.len().alias("open_count"),
            pl.col("age").median().round(4).alias("open_median_age_days"),
        )
    )
    # Group keys may be null (a deal without a team or source): nulls must match here.
    merged = agg.join(
        ages, on=[*_keys(params), "stage_idx"], how="full", coalesce=True, nulls_equal=True
    )
    rows = []
    for group, part in _groups(merged, params, data):
        by_idx = {r["stage_idx"]: r for r in part}
        for stage in data.open_stages:
            r = by_idx.get(stage.index, {})
            rows.append(
                {
                    **group,
                    **_stage_fields(data, stage.index, params),
                    "count": r.get("count") or 0,
                    "mean_days": r.get("mean_days"),
                    "median_days": r.get("median_days"),
                    "p90_days": r.get("p90_days"),
                    "open_count": r.get("open_count") or 0,
                    "open_median_age_days": r.get("open_median_age_days"),
                }
            )
    columns = [
        *_named(params),
        "stage",
        "stage_name",
        "count",
        "mean_days",
        "median_days",
        "p90_days",
        "open_count",
        "open_median_age_days",
    ]
    return ReportResult(
        "time_in_stage",
        params.echo(**{"from": date_from.isoformat(), "to": date_to.isoformat()}),
        rows,
        stays.select(_stats_exprs()).row(0, named=True),
        columns,
    )


# ---------------------------------------------------------------------------------------
# cycle and win rate (deals closed in the period)


def _closed_in_period(data: PipelineData, params: ReportParams) -> tuple[pl.DataFrame, dict]:
    date_from, date_to, start, end = _period_instants(params)
    closed = visible_deals(data, params).filter(
        pl.col("status").is_in(["won", "lost"]) & _within("closed_at", start, end)
    )
    return closed, {"from": date_from.isoformat(), "to": date_to.isoformat()}


def cycle(data: PipelineData, params: ReportParams) -> ReportResult:
    """Sales cycle (成单周期): created → closed in days, won and lost deals separately."""
    closed, period = _closed_in_period(data, params)
    closed = closed.with_columns(
        ((pl.col("closed_at") - pl.col("created_at")).dt.total_microseconds() / 86_400e6).alias(
            "days"
        )
    )
    agg = closed.group_by(*_keys(params), "status").agg(_stats_exprs())
    rows = []
    for group, part in _groups(agg, params, data):
        by_status = {r["status"]: r for r in part}
        for outcome in ("won", "lost"):
            r = by_status.get(outcome, {})
            rows.append(
                {
                    **group,
                    "outcome": outcome,
                    "count": r.get("count") or 0,
                    "mean_days": r.get("mean_days"),
                    "median_days": r.get("median_days"),
                    "p90_days": r.get("p90_days"),
                }
            )
    totals = {
        outcome: closed.filter(pl.col("status") == outcome)
        .select(_stats_exprs())
        .row(0, named=True)
        for outcome in ("won", "lost")
    }
    columns = [*_named(params), "outcome", "count", "mean_days", "median_days", "p90_days"]
    return ReportResult("cycle", params.echo(**period), rows, totals, columns)


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


# ---------------------------------------------------------------------------------------
# forecast


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def _period_label(expr: pl.Expr, grain: str) -> pl.Expr:
    if grain == "quarter":
        return pl.format("{}-Q{}", expr.dt.year(), expr.dt.quarter())
    return expr.dt.strftime("%Y-%m")


def forecast(data: PipelineData, params: ReportParams) -> ReportResult:
    """Weighted pipeline and forecast categories of open deals by expected close period,
    beside what was already won (closed) in each period."""
    if params.date_from or params.date_to:
        date_from, date_to = params.period()
    else:
        date_from = _quarter_start(params.today())
        date_to = _add_months(date_from, 3)
    if (date_to - date_from).days > 366 * 5:
        raise ParamError("from/to: a forecast covers at most five years", "预测期间最长五年")
    keys, named = _keys(params), _named(params)
    chosen = probabilities_for(data, params, "configured")
    stage_category = {s.id: s.forecast_category for s in data.stages}
    open_deals = (
        visible_deals(data, params, data.open_deals)
        .filter(
            (pl.col("expected_close_date") >= date_from) & (pl.col("expected_close_date") < date_to)
        )
        .with_columns(
            _period_label(pl.col("expected_close_date"), params.grain).alias("period"),
            pl.when(pl.col("forecast_category") != "")
            .then(pl.col("forecast_category").cast(pl.String))
            .otherwise(pl.col("stage_id").replace_strict(stage_category, default="pipeline"))
            .alias("category"),
        )
    )
    categories = ("commit", "best_case", "pipeline", "omitted")
    amount = pl.col("amount_cents").fill_null(0)
    open_agg = open_deals.group_by("period", *keys).agg(
        pl.len().alias("open_count"),
        amount.sum().alias("cents"),
        _cents_x_bp(data, chosen.by_stage).sum().alias("cents_x_bp"),
        *[amount.filter(pl.col("category") == c).sum().alias(c) for c in categories],
    )
    start, end = params.instant(date_from), params.instant(date_to)
    won = (
        visible_deals(data, params, data.won_deals)
        .filter(_within("closed_at", start, end))
        .with_columns(
            _period_label(
                pl.col("closed_at").dt.convert_time_zone(params.time_zone).dt.date(), params.grain
            ).alias("period")
        )
        .group_by("period", *keys)
        .agg(amount.sum().alias("won_cents"))
    )
    table = open_agg.join(
        won, on=["period", *keys], how="full", coalesce=True, nulls_equal=True
    ).with_columns(pl.exclude("period", *keys).fill_null(0))
    if keys:
        names = data.owner_names if params.by == "owner" else data.team_names
        label = (
            pl.col(keys[0]).replace_strict(names, default=None, return_dtype=pl.String)
            if params.by in ("owner", "team")
            else pl.col(keys[0]).cast(pl.String)
        )
        table = table.with_columns(label.alias(params.by))
    table = table.sort("period", *named, nulls_last=True)

    def render(r: dict[str, Any]) -> dict[str, Any]:
        return {
            "open_count": r["open_count"],
            "amount": money(r["cents"]),
            "weighted_amount": weighted_money(r["cents_x_bp"]),
            **{c: money(r[c]) for c in categories},
            "already_won": money(r["won_cents"]),
        }

    rows = [
        {"period": r["period"], **{by: r[by] for by in named}, **render(r)}
        for r in table.iter_rows(named=True)
    ]
    totals = table.select(
        pl.col("open_count", "cents", "cents_x_bp", *categories, "won_cents").sum()
    ).row(0, named=True)
    columns = [
        "period",
        *named,
        "open_count",
        "amount",
        "weighted_amount",
        "commit",
        "best_case",
        "pipeline",
        "omitted",
        "already_won",
    ]
    totals_out = render(totals)
    if params.simulate:
        totals_out.update(_simulation(open_deals, chosen.by_stage, totals["won_cents"], params))
    echo = {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "grain": params.grain,
        "probabilities": params.probabilities or "configured",
        "simulate": params.simulate,
        "target": params.target,
    }
    if params.simulate:
        echo.update(seed=params.seed, runs=params.runs)
    return ReportResult("forecast", params.echo(**echo), rows, totals_out, columns)


def _simulation(
    open_deals: pl.DataFrame,
    probabilities: dict[int, Decimal],
    won_cents: int,
    params: ReportParams,
) -> dict[str, Any]:
    """METRICS.md's simulated range over the whole forecast period: each open deal closing
    in it wins independently with its stage's probability; ``runs`` seeded runs of the sum
    of won amounts. P(target) counts what is already won in the period towards it."""
    deals = open_deals.select(
        pl.col("amount_cents").fill_null(0),
        pl.col("stage_id")
        .replace_strict({k: float(v) for k, v in probabilities.items()}, default=0.0)
        .alias("p"),
    )
    sums = simulate_sums(
        deals["amount_cents"].to_numpy(), deals["p"].to_numpy(), runs=params.runs, seed=params.seed
    )
    p10, p50, p90 = percentiles(sums, [10, 50, 90])

    def cents(value: float) -> Decimal:
        return money(round(value))

    result = {
        "simulated_mean": cents(float(sums.mean())),
        "simulated_p10": cents(p10),
        "simulated_p50": cents(p50),
        "simulated_p90": cents(p90),
        "probability_of_target": None,
    }
    if params.target is not None:
        needed = float(params.target * 100) - float(won_cents or 0)
        result["probability_of_target"] = float((sums >= needed - 0.5).mean())
    return result


REPORTS: dict[str, Callable[[PipelineData, ReportParams], ReportResult]] = {
    "snapshot": snapshot,
    "funnel": funnel,
    "flow": flow,
    "time_in_stage": time_in_stage,
    "cycle": cycle,
    "win_rate": win_rate,
    "forecast": forecast,
}
