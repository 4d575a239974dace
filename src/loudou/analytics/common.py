"""Helpers every report shares: which deals the asking user sees, grouping rows by
owner/team/source, periods, exact weighted cents, duration statistics, and the few
computations more than one report makes (average won amount, needed deals, quota
proration, each event's next stage change). Pure functions of a pipeline's frames."""

import datetime as dt
import math
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from .frames import PipelineData
from .params import ParamError, ReportParams

# ---------------------------------------------------------------------------------------
# Selection and grouping


GROUP_COLUMNS = {"owner": "owner_id", "team": "team_id", "source": "source"}


def _id_of(names: dict[int, str], name: str) -> int:
    return next((i for i, n in names.items() if n == name), -1)


def visible_deals(
    data: PipelineData, params: ReportParams, deals: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The pipeline's deals the asking user may see, after the owner/team/source filters."""
    deals = data.deals if deals is None else deals
    if not params.visibility.all:
        deals = deals.filter(params.visibility.allows())
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
            f"{params.by} is for the collection report only",
            f"{params.by} 只适用于回款报表（collection）",
            option="by",
        )
    return [GROUP_COLUMNS[params.by]] if params.by else []


def _named(params: ReportParams) -> list[str]:
    """The group fields as they appear in output rows: owner (the username) and
    owner_name (the display name), team or source."""
    if params.by == "owner":
        return ["owner", "owner_name"]
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
    named = [(_label(data, params, key), key, part) for key, part in grouped.items()]
    for name, key, part in sorted(named, key=lambda kv: (kv[0] is None, kv[0] or "")):
        if params.by == "owner":
            yield {"owner": name, "owner_name": data.owner_label(key)}, part
        else:
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


def _closed_in_period(data: PipelineData, params: ReportParams) -> tuple[pl.DataFrame, dict]:
    date_from, date_to, start, end = _period_instants(params)
    closed = visible_deals(data, params).filter(
        pl.col("status").is_in(["won", "lost"]) & _within("closed_at", start, end)
    )
    return closed, {"from": date_from.isoformat(), "to": date_to.isoformat()}


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


# ---------------------------------------------------------------------------------------
# Days and rounding


DAY_US = 86_400e6


def _days(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_microseconds() / DAY_US


def _no_grouping(params: ReportParams, report: str) -> None:
    if params.by is not None:
        raise ParamError(f"does not apply to {report}", f"不适用于 {report}", option="by")


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


# ---------------------------------------------------------------------------------------
# Computations shared by the management reports


def _average_won(data: PipelineData, params: ReportParams) -> tuple[int, int]:
    """(sum of cents, count) of deals won in the look-back window (the window_days up to
    now) that have an amount: the average won amount A is their ratio."""
    start = params.now - dt.timedelta(days=params.window_days)
    won = visible_deals(data, params, data.won_deals).filter(
        _within("closed_at", start, params.now) & pl.col("amount_cents").is_not_null()
    )
    return int(won["amount_cents"].sum() or 0), won.height


def _needed(remaining_cents: Fraction, average: Fraction | None, p: Decimal) -> int | None:
    """ceil(T_remaining / (A × p_k)), exactly (no float rounding at the boundary)."""
    if average is None or average == 0 or p == 0:
        return None
    return math.ceil(remaining_cents / (average * Fraction(p)))


def _prorated(quotas: pl.DataFrame, start: dt.date, end: dt.date) -> list[Fraction]:
    """Each quota's cents over [start, end): its amount times the share of its own
    period that overlaps (quotas that do not overlap give 0)."""
    return [
        Fraction(
            cents * max(0, (min(q_end, end) - max(q_start, start)).days), (q_end - q_start).days
        )
        for q_start, q_end, cents in quotas.select(
            "period_start", "period_end", "amount_cents"
        ).iter_rows()
    ]


def quota_target(
    data: PipelineData, params: ReportParams, start: dt.date, end: dt.date
) -> Fraction | None:
    """The revenue target (cents) of [start, end) when none is given: the quotas
    overlapping it of the people and teams the user sees, prorated by days; team quotas,
    where there are any, stand for their members' own. None when no quota overlaps."""
    quotas = data.quotas.filter((pl.col("period_start") < end) & (pl.col("period_end") > start))
    if not params.visibility.all:
        quotas = quotas.filter(params.visibility.allows(user="user_id"))
    team_quota = quotas.filter(pl.col("team_id").is_not_null())
    chosen = team_quota if team_quota.height else quotas
    return sum(_prorated(chosen, start, end), Fraction(0)) or None


def _events_of(data: PipelineData, deals: pl.DataFrame) -> pl.DataFrame:
    """The pipeline's events of these deals, still by deal and time, each with the time,
    open-stage index, kind and imported flag of the deal's next stage change (null for
    the last)."""
    nxt = pl.col("deal_id").shift(-1) == pl.col("deal_id")
    return data.events.join(
        deals.select(pl.col("id").alias("deal_id")), on="deal_id", how="semi"
    ).with_columns(
        pl.when(nxt).then(pl.col("at").shift(-1)).alias("next_at"),
        pl.when(nxt).then(pl.col("to_idx").shift(-1)).alias("next_idx"),
        pl.when(nxt).then(pl.col("to_kind").shift(-1)).alias("next_kind"),
        pl.when(nxt).then(pl.col("imported").shift(-1)).alias("next_imported"),
    )
