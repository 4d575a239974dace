"""The time reports of METRICS.md: time in stage (completed stays, beside the open deals'
age in stage) and the sales cycle of closed deals. Pure functions of (data, params)."""

import polars as pl

from .common import (
    _closed_in_period,
    _groups,
    _keys,
    _named,
    _period_instants,
    _stage_fields,
    _stats_exprs,
    _within,
    visible_deals,
)
from .frames import PipelineData
from .params import ReportParams, ReportResult

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
# sales cycle (deals closed in the period)


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
