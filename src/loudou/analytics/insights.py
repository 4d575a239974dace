"""Managing by the funnel (METRICS.md): stage probabilities, planning, collection, and
what reps do in each stage. Diagnosis and update discipline have their own modules;
the choices METRICS.md leaves open are in docs/reports.md and in the docstrings here."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from .common import (
    _add_months,
    _average_won,
    _events_of,
    _groups,
    _keys,
    _named,
    _needed,
    _no_grouping,
    _period_instants,
    _prorated,
    _quarter_start,
    _round,
    _stage_fields,
    _within,
    quota_target,
    visible_deals,
)
from .frames import PipelineData
from .history import (
    MIN_SAMPLE,
    closed_in,
    probabilities_for,
    require_target,
    stage_win_counts,
    window,
)
from .params import BY_DEAL, ParamError, ReportParams, ReportResult, money, ratio
from .stats import wilson

# ---------------------------------------------------------------------------------------
# stage_probability


def stage_probability(data: PipelineData, params: ReportParams) -> ReportResult:
    """Per open stage: among deals closed in the window that reached it, won / (won + lost),
    with the sample size and 95% Wilson interval, beside the configured probability;
    ``flagged`` when the configured one lies outside the interval (null without data)."""
    start, end, date_from, date_to = window(params, use_period=True)
    closed = closed_in(visible_deals(data, params), start, end)
    counts = stage_win_counts(data, closed, _keys(params))
    rows = []
    for group, part in _groups(counts, params, data):
        by_idx = {r["idx"]: r for r in part}
        for stage in data.open_stages:
            r = by_idx.get(stage.index, {})
            n, won = r.get("closed", 0), r.get("won", 0)
            interval = wilson(won, n)
            configured = float(stage.probability)
            rows.append(
                {
                    **group,
                    **_stage_fields(data, stage.index, params),
                    "sample": n,
                    "won": won,
                    "lost": n - won,
                    "historical_probability": _round(ratio(won, n)),
                    "ci_low": _round(interval[0]) if interval else None,
                    "ci_high": _round(interval[1]) if interval else None,
                    "configured_probability": configured,
                    "flagged": (
                        None if interval is None else not interval[0] <= configured <= interval[1]
                    ),
                    "thin": n < MIN_SAMPLE,
                }
            )
    won_total = int((closed["status"] == "won").sum())
    totals = {
        "closed": closed.height,
        "won": won_total,
        "win_rate": ratio(won_total, closed.height),
    }
    columns = [
        *_named(params),
        "stage",
        "stage_name",
        "sample",
        "won",
        "lost",
        "historical_probability",
        "ci_low",
        "ci_high",
        "configured_probability",
        "flagged",
    ]
    echo = params.echo(
        **{"from": date_from.isoformat(), "to": date_to.isoformat()},
        window_days=params.window_days,
    )
    return ReportResult("stage_probability", echo, rows, totals, columns)


# ---------------------------------------------------------------------------------------
# plan


def _forecast_period(params: ReportParams) -> tuple[dt.date, dt.date]:
    if params.date_from or params.date_to:
        return params.period()
    start = _quarter_start(params.today())
    return start, _add_months(start, 3)


def _quota_shares(
    data: PipelineData, params: ReportParams, owners: list[int], start: dt.date, end: dt.date
) -> tuple[dict[int, Fraction], str]:
    """Each owner's share of the target: their quotas over the period (prorated by the
    days a quota overlaps it), or an even split when none of them has a quota."""
    quotas = data.quotas.filter(
        pl.col("user_id").is_in(owners)
        & (pl.col("period_start") < end)
        & (pl.col("period_end") > start)
    )
    amounts: dict[int, Fraction] = {}
    for user_id, cents in zip(quotas["user_id"], _prorated(quotas, start, end), strict=True):
        amounts[user_id] = amounts.get(user_id, Fraction(0)) + cents
    total = sum(amounts.values(), Fraction(0))
    if total > 0:
        return {o: amounts.get(o, Fraction(0)) / total for o in owners}, "quota"
    return {o: Fraction(1, len(owners)) for o in owners}, "even"


def plan(data: PipelineData, params: ReportParams) -> ReportResult:
    """How many opportunities each stage needs to reach ``target`` in the period
    (METRICS.md, *Planning*); with ``--by owner``, per rep from their share."""
    if params.by not in (None, "owner"):
        raise ParamError(
            "the plan is grouped by owner only",
            "目标规划只支持按负责人分组",
            option="by",
        )
    date_from, date_to = _forecast_period(params)
    # A given target wins; else the quotas of the period (what a manager set in settings).
    from_quotas = (
        None if params.target is not None else quota_target(data, params, date_from, date_to)
    )
    if from_quotas is None:
        target = require_target(params, "plan")
        target_source = "given"
    else:
        target = Decimal(round(from_quotas)) / 100
        target_source = "quotas"
    start, end = params.instant(date_from), params.instant(date_to)
    chosen = probabilities_for(data, params, "historical")
    won_cents, won_count = _average_won(data, params)
    average = Fraction(won_cents, won_count) if won_count else None
    deals = visible_deals(data, params)
    open_in_period = deals.filter(
        (pl.col("status") == "open")
        & (pl.col("expected_close_date") >= date_from)
        & (pl.col("expected_close_date") < date_to)
    )
    won_in_period = deals.filter((pl.col("status") == "won") & _within("closed_at", start, end))
    target_cents = Fraction(int(target * 100))

    # Per owner (or None for everyone): open deals per current stage, their amount, and
    # what was already won; one aggregation each, whatever the number of reps.
    open_by = open_in_period.group_by("owner_id", "cur_idx").agg(
        pl.len().alias("n"), pl.col("amount_cents").sum().alias("cents")
    )
    won_by = dict(won_in_period.group_by("owner_id").agg(pl.col("amount_cents").sum()).iter_rows())
    won_by[None] = sum(v or 0 for v in won_by.values())
    counts: dict[object, dict[int, int]] = {None: {}}
    open_cents: dict[object, int] = {None: 0}
    for owner, idx, n, cents in open_by.iter_rows():
        for key in (owner, None):
            counts.setdefault(key, {})[idx] = counts.get(key, {}).get(idx, 0) + n
            open_cents[key] = open_cents.get(key, 0) + (cents or 0)

    def scope_rows(scope: dict, goal: Fraction, owner: int | None) -> tuple[list[dict], dict]:
        already = won_by.get(owner) or 0
        remaining = max(Fraction(0), goal - already)
        mine = counts.get(owner, {})
        rows = []
        for stage in data.open_stages:
            p = chosen.by_stage[stage.id]
            needed = _needed(remaining, average, p)
            have = sum(c for idx, c in mine.items() if idx is not None and idx >= stage.index)
            rows.append(
                {
                    **scope,
                    **_stage_fields(data, stage.index, params),
                    "probability": float(p),
                    "probability_source": chosen.source[stage.id],
                    "needed": needed,
                    "have": have,
                    "gap": None if needed is None else max(0, needed - have),
                }
            )
        cents = open_cents.get(owner, 0)
        summary = {
            "target": money(round(goal)),
            "already_won": money(already),
            "remaining_target": money(round(remaining)),
            "open_amount": money(cents),
            "coverage": None if remaining == 0 else round(float(cents / remaining), 4),
        }
        return rows, summary

    rows, totals = scope_rows({}, target_cents, None)
    totals["target_source"] = target_source
    totals.update(
        average_won_amount=money(round(average)) if average is not None else None,
        won_deals_used=won_count,
    )
    if params.by == "owner":
        owners = sorted(
            set(deals.filter(pl.col("status") == "open")["owner_id"].to_list())
            | set(won_in_period["owner_id"].to_list()),
            key=lambda o: data.owner_names.get(o, ""),
        )
        shares, basis = (
            _quota_shares(data, params, owners, date_from, date_to) if owners else ({}, "even")
        )
        totals["share_basis"] = basis
        rows = []
        for owner in owners:
            part, summary = scope_rows(
                {
                    "owner": data.owner_names.get(owner, str(owner)),
                    "owner_name": data.owner_label(owner),
                },
                target_cents * shares[owner],
                owner,
            )
            for row in part:
                row.update(
                    share=round(float(shares[owner]), 4),
                    owner_target=summary["target"],
                    owner_remaining=summary["remaining_target"],
                )
            rows.extend(part)
    columns = [
        *_named(params),
        *(["share", "owner_target", "owner_remaining"] if params.by == "owner" else []),
        "stage",
        "stage_name",
        "probability",
        "probability_source",
        "needed",
        "have",
        "gap",
    ]
    echo = params.echo(
        **{"from": date_from.isoformat(), "to": date_to.isoformat()},
        target=target,
        probabilities=params.probabilities or "historical",
        window_days=params.window_days,
    )
    return ReportResult("plan", echo, rows, totals, columns)


# ---------------------------------------------------------------------------------------
# collection


def collection(data: PipelineData, params: ReportParams) -> ReportResult:
    """Deals won in the period (by closing time): won amount, paid (every payment recorded
    against them, whenever), outstanding, collected %; per period of the win (--grain),
    per owner/team/source (--by), or per deal (--by deal)."""
    date_from, date_to, start, end = _period_instants(params)
    won = visible_deals(data, params, data.won_deals).filter(_within("closed_at", start, end))
    paid = data.payments.group_by("deal_id").agg(pl.col("amount_cents").sum().alias("paid_cents"))
    won = won.join(paid.rename({"deal_id": "id"}), on="id", how="left").with_columns(
        pl.col("paid_cents").fill_null(0),
        pl.col("amount_cents").fill_null(0).alias("won_cents"),
        pl.col("closed_at").dt.convert_time_zone(params.time_zone).dt.date().alias("won_on"),
    )

    def render(won_cents: int, paid_cents: int) -> dict[str, Any]:
        return {
            "won_amount": money(won_cents),
            "paid": money(paid_cents),
            "outstanding": money(won_cents - paid_cents),
            "collected": ratio(paid_cents, won_cents),
        }

    rows: list[dict[str, Any]] = []
    if params.by == BY_DEAL:
        for r in won.sort("won_on", "id").iter_rows(named=True):
            rows.append(
                {
                    "deal_id": r["id"],
                    "owner": data.owner_names.get(r["owner_id"]),
                    "owner_name": data.owner_label(r["owner_id"]),
                    "won_on": r["won_on"],
                    **render(r["won_cents"], r["paid_cents"]),
                }
            )
        named = ["deal_id", "owner", "owner_name", "won_on"]
    else:
        label = (
            pl.format("{}-Q{}", pl.col("won_on").dt.year(), pl.col("won_on").dt.quarter())
            if params.grain == "quarter"
            else pl.col("won_on").dt.strftime("%Y-%m")
        )
        agg = (
            won.with_columns(label.alias("period"))
            .group_by("period", *_keys(params))
            .agg(
                pl.len().alias("deals"),
                pl.col("won_cents").sum(),
                pl.col("paid_cents").sum(),
            )
            .sort("period")
        )
        for group, part in _groups(agg, params, data):
            for r in sorted(part, key=lambda r: r["period"]):
                rows.append(
                    {
                        "period": r["period"],
                        **group,
                        "deals": r["deals"],
                        **render(r["won_cents"], r["paid_cents"]),
                    }
                )
        rows.sort(key=lambda r: r["period"])
        named = ["period", *_named(params), "deals"]
    totals = {
        "deals": won.height,
        **render(int(won["won_cents"].sum() or 0), int(won["paid_cents"].sum() or 0)),
    }
    columns = [*named, "won_amount", "paid", "outstanding", "collected"]
    echo = params.echo(
        **{"from": date_from.isoformat(), "to": date_to.isoformat()}, grain=params.grain
    )
    return ReportResult("collection", echo, rows, totals, columns)


# ---------------------------------------------------------------------------------------
# activities


def activities(data: PipelineData, params: ReportParams) -> ReportResult:
    """Per open stage, for stays that ended in the period by moving the deal on (to a
    later stage or won) or by losing it: per activity type, how many activities a stay
    had on average and the share of stays with at least one. Activities count towards
    the stay they fall in (from entering the stage until the next stage change)."""
    _no_grouping(params, "activities")
    date_from, date_to, start, end = _period_instants(params)
    deals = visible_deals(data, params)
    stays = (
        _events_of(data, deals)
        .with_columns(pl.int_range(pl.len()).alias("stay"), pl.col("next_at").alias("left_at"))
        .filter(pl.col("to_kind") == "open")
        .with_columns(
            pl.when(pl.col("next_kind") == "lost")
            .then(pl.lit("lost"))
            .when(
                (pl.col("next_kind") == "won")
                | ((pl.col("next_kind") == "open") & (pl.col("next_idx") > pl.col("to_idx")))
            )
            .then(pl.lit("advanced"))
            .alias("outcome")
        )
        .filter(pl.col("outcome").is_not_null() & _within("left_at", start, end))
        .select("stay", "deal_id", pl.col("to_idx").alias("k"), "at", "left_at", "outcome")
    )
    acts = (
        data.activities.join(stays.select("deal_id").unique(), on="deal_id", how="semi")
        .sort("at")
        .join_asof(
            stays.sort("at").select("deal_id", "at", "stay", "left_at"),
            on="at",
            by="deal_id",
            strategy="backward",
            check_sortedness=False,  # sorted by time overall, hence within each deal
        )
        .filter(pl.col("stay").is_not_null() & (pl.col("at") < pl.col("left_at")))
    )
    per_stay_type = acts.group_by("stay", "type").len("n")
    stay_counts = dict(((k, o), c) for k, o, c in stays.group_by("k", "outcome").len().iter_rows())
    agg = (
        per_stay_type.join(stays.select("stay", "k", "outcome"), on="stay")
        .group_by("k", "outcome", "type")
        .agg(pl.col("n").sum().alias("activities"), pl.len().alias("stays_with"))
    )
    found = {(r["k"], r["outcome"], r["type"]): r for r in agg.iter_rows(named=True)}
    types = sorted({t for _, _, t in found})
    rows = []
    for stage in data.open_stages:
        for outcome in ("advanced", "lost"):
            stays_n = stay_counts.get((stage.index, outcome), 0)
            for kind in types:
                r = found.get((stage.index, outcome, kind), {})
                rows.append(
                    {
                        **_stage_fields(data, stage.index, params),
                        "outcome": outcome,
                        "stays": stays_n,
                        "type": kind,
                        "activities": r.get("activities", 0),
                        "per_stay": _round(ratio(r.get("activities", 0), stays_n)),
                        "share_with": _round(ratio(r.get("stays_with", 0), stays_n)),
                    }
                )
    totals = {"stays": stays.height, "activities": acts.height}
    columns = [
        "stage",
        "stage_name",
        "outcome",
        "stays",
        "type",
        "activities",
        "per_stay",
        "share_with",
    ]
    echo = params.echo(**{"from": date_from.isoformat(), "to": date_to.isoformat()})
    return ReportResult("activities", echo, rows, totals, columns)
