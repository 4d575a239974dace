"""Update discipline (METRICS.md: 及时准确更新进展): per rep and team, stale and overdue
open deals, forced moves, bounces and days since last touch. Pure functions of
(data, params); the choices are in docs/reports.md."""

import datetime as dt
from typing import Any

import polars as pl

from .common import (
    _days,
    _events_of,
    _no_grouping,
    _period_instants,
    _round,
    _within,
    visible_deals,
)
from .frames import PipelineData
from .params import ParamError, ReportParams, ReportResult, ratio

BOUNCE_DAYS = 7


DISCIPLINE_FIELDS = (
    "open_deals",
    "stale",
    "stale_pct",
    "overdue",
    "overdue_pct",
    "forced_moves",
    "bounces",
    "median_days_since_touch",
)
DISCIPLINE_SORTS = ("owner", *DISCIPLINE_FIELDS)


def _bounces(events: pl.DataFrame, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """Forward moves between open stages in the period that the deal's next stage change,
    within BOUNCE_DAYS, took back to a lower open stage: deal_id, at (``events`` as
    ``_events_of`` gives them). Both moves must be made in Loudou: an imported event is
    history from another system, not a rep's move forward or back."""
    return events.filter(
        (pl.col("from_kind") == "open")
        & (pl.col("to_kind") == "open")
        & (pl.col("to_idx") > pl.col("from_idx"))
        & _within("at", start, end)
        & (pl.col("next_kind") == "open")
        & (pl.col("next_idx") < pl.col("to_idx"))
        & (pl.col("next_at") - pl.col("at") <= pl.duration(days=BOUNCE_DAYS))
        & ~pl.col("imported")
        & ~pl.col("next_imported")
    ).select("deal_id", "at")


def discipline(data: PipelineData, params: ReportParams) -> ReportResult:
    """Per rep: open deals, stale and overdue (count and share of open), forced moves and
    bounces in the period, median days since last touch; then each team's row."""
    _no_grouping(params, "discipline (its rows are per rep and per team)")
    field = params.sort or "owner"
    if field not in DISCIPLINE_SORTS:
        raise ParamError(
            f"one of {', '.join(DISCIPLINE_SORTS)}",
            f"只能是 {'、'.join(DISCIPLINE_SORTS)} 之一",
            option="sort",
        )
    date_from, date_to, start, end = _period_instants(params)
    deals = visible_deals(data, params)
    today = params.today()
    per_deal = deals.select(
        "id",
        "owner_id",
        "team_id",
        (pl.col("status") == "open").alias("is_open"),
        (
            (pl.col("status") == "open")
            & (pl.col("last_touch") < pl.lit(params.now) - pl.duration(days=pl.col("rot_days")))
        ).alias("is_stale"),
        ((pl.col("status") == "open") & (pl.col("expected_close_date") < today)).alias(
            "is_overdue"
        ),
        pl.when(pl.col("status") == "open")
        .then(_days(pl.lit(params.now) - pl.col("last_touch")).clip(lower_bound=0))
        .alias("since_touch"),
    )
    events = _events_of(data, deals)
    # An imported event is never a forced move, even if a frame from elsewhere says so
    # (the database refuses an imported event with an override reason).
    forced = (
        events.filter(pl.col("forced") & ~pl.col("imported") & _within("at", start, end))
        .group_by("deal_id")
        .len("forced")
    )
    bounces = _bounces(events, start, end).group_by("deal_id").len("bounces")
    per_deal = (
        per_deal.join(forced.rename({"deal_id": "id"}), on="id", how="left")
        .join(bounces.rename({"deal_id": "id"}), on="id", how="left")
        .with_columns(pl.col("forced", "bounces").fill_null(0))
    )
    metrics = [
        pl.col("is_open").sum().alias("open_deals"),
        pl.col("is_stale").sum().alias("stale"),
        pl.col("is_overdue").sum().alias("overdue"),
        pl.col("forced").sum().alias("forced_moves"),
        pl.col("bounces").sum().alias("bounces"),
        pl.col("since_touch").median().alias("median_days_since_touch"),
    ]

    def render(r: dict[str, Any]) -> dict[str, Any]:
        return {
            "open_deals": r["open_deals"],
            "stale": r["stale"],
            "stale_pct": ratio(r["stale"], r["open_deals"]),
            "overdue": r["overdue"],
            "overdue_pct": ratio(r["overdue"], r["open_deals"]),
            "forced_moves": r["forced_moves"],
            "bounces": r["bounces"],
            "median_days_since_touch": _round(r["median_days_since_touch"]),
        }

    reps = [
        {
            "scope": "rep",
            "owner": data.owner_names.get(r["owner_id"], str(r["owner_id"])),
            "owner_name": data.owner_label(r["owner_id"]),
            "team": data.team_names.get(data.user_teams.get(r["owner_id"])),
            **render(r),
        }
        for r in per_deal.group_by("owner_id").agg(metrics).iter_rows(named=True)
    ]

    def key(row: dict[str, Any]) -> tuple:
        """Owner names A to Z; any other field largest (worst) first, undefined last."""
        value = row[field]
        if field == "owner":
            return (False, value, "")
        return (value is None, -(value or 0), row["owner"])

    reps.sort(key=key)
    teams = per_deal.filter(pl.col("team_id").is_not_null()).group_by("team_id").agg(metrics)
    team_rows = sorted(
        (
            {
                "scope": "team",
                "owner": None,
                "owner_name": None,
                "team": data.team_names.get(r["team_id"]),
                **render(r),
            }
            for r in teams.iter_rows(named=True)
        ),
        key=lambda row: row["team"] or "",
    )
    totals = render(per_deal.select(metrics).row(0, named=True))
    columns = [
        "scope",
        "owner",
        "owner_name",
        "team",
        *DISCIPLINE_FIELDS,
    ]
    echo = params.echo(**{"from": date_from.isoformat(), "to": date_to.isoformat()}, sort=field)
    return ReportResult("discipline", echo, reps + team_rows, totals, columns)
