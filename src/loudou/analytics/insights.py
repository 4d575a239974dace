"""Managing by the funnel (METRICS.md: stage probabilities, planning, diagnosis, update
discipline, collection) and what reps do in each stage. Pure functions of (data, params);
the choices METRICS.md leaves open are in docs/reports.md and in the docstrings here."""

import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl

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
from .reports import (
    _add_months,
    _groups,
    _keys,
    _named,
    _period_instants,
    _quarter_start,
    _stage_fields,
    _within,
    visible_deals,
)
from .stats import two_proportion_z, wilson

DAY_US = 86_400e6
BOUNCE_DAYS = 7
SIGNIFICANCE = 0.05


def _days(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_microseconds() / DAY_US


def _no_grouping(params: ReportParams, report: str) -> None:
    if params.by is not None:
        raise ParamError(f"{report}: --by does not apply", f"{report}：不支持 --by 分组")


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


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
        raise ParamError("plan: --by owner only", "plan：只支持 --by owner")
    target = require_target(params, "plan")
    date_from, date_to = _forecast_period(params)
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
                {"owner": data.owner_names.get(owner, str(owner))},
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
# diagnosis


SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def _decided(cohort: pl.DataFrame, keys: list[str], data: PipelineData) -> pl.DataFrame:
    """Per open stage k (and keys): cohort deals decided at k, i.e. that went past k or
    closed, and of them those that went past k. Deals still open at k are left out:
    they have not converted *yet*, and counting them would make recent cohorts look
    worse than they are."""
    ks = pl.DataFrame({"k": [s.index for s in data.open_stages]}, schema={"k": pl.Int8})
    return (
        cohort.select(*keys, pl.col("max_stage").fill_null(0), "status")
        .join(ks, how="cross")
        .filter(pl.col("max_stage") >= pl.col("k"))
        .with_columns((pl.col("max_stage") > pl.col("k")).alias("passed"))
        .filter(pl.col("passed") | (pl.col("status") != "open"))
        .group_by(*keys, "k")
        .agg(pl.len().alias("decided"), pl.col("passed").sum().alias("passed"))
    )


def _amount(cents: Fraction | int) -> str:
    return f"{money(round(cents)):,.2f}"


def _deals_en(count: int) -> str:
    return f"{count} deal" if count == 1 else f"{count} deals"


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _stage_pair(data: PipelineData, k: int) -> tuple[str, str]:
    here, after = data.stage_by_index(k), data.stage_by_index(k + 1)
    return f"{here.name_zh}→{after.name_zh}", f"{here.name_en} → {after.name_en}"


def _finding(
    code: str,
    severity: str,
    zh: str,
    en: str,
    numbers: dict[str, Any],
    params: ReportParams,
    stage: Any = None,
    owner: str | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "severity": severity,
        "stage": stage.key if stage else None,
        "stage_name": stage.name(params.lang) if stage else None,
        "owner": owner,
        "message": zh if params.lang.startswith("zh") else en,
        "message_zh": zh,
        "message_en": en,
        "numbers": numbers,
    }


def _team_target(
    data: PipelineData, params: ReportParams, start: dt.date, end: dt.date
) -> Fraction | None:
    """The target behind thin_top: --target, else the quotas overlapping the period of
    the people and teams the user sees (prorated by days), else none."""
    if params.target is not None:
        return Fraction(int(params.target * 100))
    vis = params.visibility
    quotas = data.quotas.filter((pl.col("period_start") < end) & (pl.col("period_end") > start))
    if not vis.all:
        quotas = quotas.filter(
            (pl.col("user_id") == (vis.user_id or -1))
            | pl.col("team_id").is_in(sorted(vis.team_ids))
        )
    team_quota = quotas.filter(pl.col("team_id").is_not_null())
    # Team quotas, where there are any, already cover their members' personal quotas.
    chosen = team_quota if team_quota.height else quotas
    return sum(_prorated(chosen, start, end), Fraction(0)) or None


def diagnosis(data: PipelineData, params: ReportParams) -> ReportResult:
    """Findings thin_top, bottleneck, stuck, rep_outlier and stale (METRICS.md,
    *Diagnosis*), most severe first. The period defaults to the last 90 days; history
    is the ``window_days`` before the period."""
    _no_grouping(params, "diagnosis")
    date_from, date_to = params.period(90)
    start, end = params.instant(date_from), params.instant(date_to)
    base_start = start - dt.timedelta(days=params.window_days)
    deals = visible_deals(data, params)
    findings: list[dict[str, Any]] = []

    cohort = deals.filter(_within("created_at", start, end))
    history = deals.filter(_within("created_at", base_start, start))
    now_rates = {r["k"]: r for r in _decided(cohort, [], data).iter_rows(named=True)}
    old_rates = {r["k"]: r for r in _decided(history, [], data).iter_rows(named=True)}

    # thin_top: too few new deals at the top for the target.
    goal = _team_target(data, params, date_from, date_to)
    if goal:
        chosen = probabilities_for(data, params, "historical")
        won_cents, won_count = _average_won(data, params)
        first = data.stage_by_index(1)
        needed = _needed(
            goal, Fraction(won_cents, won_count) if won_count else None, chosen.by_stage[first.id]
        )
        inflow = cohort.height
        if needed is not None and inflow < needed:
            severity = "high" if inflow < needed / 2 else "medium"
            findings.append(
                _finding(
                    "thin_top",
                    severity,
                    f"线索不足：本期新增商机 {inflow} 个，"
                    f"按目标 {_amount(goal)} 需要约 {needed} 个"
                    f"（平均赢单金额 {_amount(Fraction(won_cents, won_count))}，"
                    f"{first.name_zh}起赢单率 {_pct(float(chosen.by_stage[first.id]))}）",
                    f"Too few new deals: {inflow} created this period; the target of "
                    f"{_amount(goal)} needs about {needed} (average won amount "
                    f"{_amount(Fraction(won_cents, won_count))}, win rate from "
                    f"{first.name_en} {_pct(float(chosen.by_stage[first.id]))})",
                    {"inflow": inflow, "needed": needed, "target": money(round(goal))},
                    params,
                    stage=first,
                )
            )

    # bottleneck: conversion at k significantly below the organisation's history.
    for stage in data.open_stages:
        k = stage.index
        now_r, old_r = now_rates.get(k), old_rates.get(k)
        if not now_r or not old_r or now_r["decided"] < MIN_SAMPLE or old_r["decided"] < MIN_SAMPLE:
            continue
        test = two_proportion_z(
            now_r["passed"], now_r["decided"], old_r["passed"], old_r["decided"]
        )
        if test is None:
            continue
        z, p = test
        if z < 0 and p < SIGNIFICANCE:
            now_rate = now_r["passed"] / now_r["decided"]
            old_rate = old_r["passed"] / old_r["decided"]
            pair_zh, pair_en = _stage_pair(data, k)
            findings.append(
                _finding(
                    "bottleneck",
                    "high" if p < 0.01 else "medium",
                    f"{pair_zh} 转化率 {_pct(now_rate)}（n={now_r['decided']}），"
                    "明显低于过去一年的 "
                    f"{_pct(old_rate)}（n={old_r['decided']}）：请检查这一阶段的推进方法",
                    f"{pair_en} conversion is {_pct(now_rate)} (n={now_r['decided']}), clearly "
                    f"below last year's {_pct(old_rate)} (n={old_r['decided']}): look at how "
                    "deals are moved on from this stage",
                    {
                        "conversion": round(now_rate, 4),
                        "n": now_r["decided"],
                        "historical_conversion": round(old_rate, 4),
                        "historical_n": old_r["decided"],
                        "z": round(z, 3),
                        "p_value": round(p, 4),
                    },
                    params,
                    stage=stage,
                )
            )

    # stuck: open deals in a stage for more than twice its historical median stay.
    stays = data.stays.filter(
        _within("exited_at", params.now - dt.timedelta(days=params.window_days), params.now)
    ).join(deals.select(pl.col("id").alias("deal_id")), on="deal_id", how="semi")
    medians = dict(stays.group_by("stage_idx").agg(pl.col("days").median()).iter_rows())
    open_now = deals.filter(pl.col("status") == "open").with_columns(
        _days(pl.lit(params.now) - pl.col("stage_entered_at")).alias("age")
    )
    for stage in data.open_stages:
        median = medians.get(stage.index)
        if median is None:
            continue
        here = open_now.filter(pl.col("cur_idx") == stage.index)
        stuck = here.filter(pl.col("age") > 2 * median)
        if stuck.height:
            share = stuck.height / here.height
            findings.append(
                _finding(
                    "stuck",
                    "high" if share >= 0.25 else "medium",
                    f"{stage.name_zh} 积压：{stuck.height} 个商机停留超过 {2 * median:.0f} 天"
                    f"（历史中位 {median:.0f} 天的两倍），占该阶段 {_pct(share)}",
                    f"{stage.name_en} is backing up: {_deals_en(stuck.height)} have been there for "
                    f"more than {2 * median:.0f} days (twice the usual {median:.0f}), "
                    f"{_pct(share)} of the stage",
                    {
                        "stuck": stuck.height,
                        "open": here.height,
                        "median_days": round(median, 4),
                        "threshold_days": round(2 * median, 4),
                        "deal_ids": stuck.sort("age", descending=True)["id"].head(20).to_list(),
                    },
                    params,
                    stage=stage,
                )
            )

    # rep_outlier: a rep converting significantly worse than the rest of their team.
    per_rep = _decided(
        cohort.filter(pl.col("team_id").is_not_null()), ["team_id", "owner_id"], data
    )
    per_team = per_rep.group_by("team_id", "k").agg(pl.col("decided", "passed").sum())
    team_totals = {(r["team_id"], r["k"]): r for r in per_team.iter_rows(named=True)}
    for r in per_rep.sort("owner_id", "k").iter_rows(named=True):
        team = team_totals[(r["team_id"], r["k"])]
        rest_n, rest_x = team["decided"] - r["decided"], team["passed"] - r["passed"]
        if r["decided"] < MIN_SAMPLE or rest_n < MIN_SAMPLE:
            continue
        test = two_proportion_z(r["passed"], r["decided"], rest_x, rest_n)
        if test is None or not (test[0] < 0 and test[1] < SIGNIFICANCE):
            continue
        owner = data.owner_names.get(r["owner_id"], str(r["owner_id"]))
        mine, theirs = r["passed"] / r["decided"], rest_x / rest_n
        pair_zh, pair_en = _stage_pair(data, r["k"])
        findings.append(
            _finding(
                "rep_outlier",
                "medium",
                f"{owner} 的 {pair_zh} 转化率 {_pct(mine)}（n={r['decided']}），"
                "明显低于团队其他人的 "
                f"{_pct(theirs)}（n={rest_n}）：适合一对一辅导",
                f"{owner}'s {pair_en} conversion is {_pct(mine)} (n={r['decided']}), clearly "
                f"below the rest of the team's {_pct(theirs)} (n={rest_n}): worth a coaching "
                "session",
                {
                    "conversion": round(mine, 4),
                    "n": r["decided"],
                    "team_conversion": round(theirs, 4),
                    "team_n": rest_n,
                    "team": data.team_names.get(r["team_id"]),
                    "z": round(test[0], 3),
                    "p_value": round(test[1], 4),
                },
                params,
                stage=data.stage_by_index(r["k"]),
                owner=owner,
            )
        )

    # stale: reps whose open deals go untouched for longer than the stage's rot days.
    stale = (
        open_now.with_columns(
            (
                pl.col("last_touch") < pl.lit(params.now) - pl.duration(days=pl.col("rot_days"))
            ).alias("stale")
        )
        .group_by("owner_id")
        .agg(pl.len().alias("open"), pl.col("stale").sum().alias("stale"))
        .filter(pl.col("stale") > 0)
    )
    for owner_id, open_count, stale_count in stale.select("owner_id", "open", "stale").iter_rows():
        owner = data.owner_names.get(owner_id, str(owner_id))
        share = stale_count / open_count
        findings.append(
            _finding(
                "stale",
                "high" if share >= 0.5 else "medium" if share >= 0.2 else "low",
                f"{owner} 有 {stale_count} 个商机跟进不及时"
                f"（共 {open_count} 个进行中，{_pct(share)}）："
                "请更新进展或记录活动",
                f"{owner} has {_deals_en(stale_count)} nobody has touched for too long "
                f"({_pct(share)} of {open_count} open): update them or log the activity",
                {"stale": stale_count, "open": open_count, "share": round(share, 4)},
                params,
                owner=owner,
            )
        )

    findings.sort(
        key=lambda f: (SEVERITY_ORDER[f["severity"]], f["code"], f["stage"] or "", f["owner"] or "")
    )
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["code"]] = counts.get(f["code"], 0) + 1
    columns = [
        "severity",
        "code",
        "stage",
        "stage_name",
        "owner",
        "message",
        "message_zh",
        "message_en",
        "numbers",
    ]
    echo = params.echo(
        **{"from": date_from.isoformat(), "to": date_to.isoformat()},
        window_days=params.window_days,
        target=params.target,
    )
    return ReportResult("diagnosis", echo, findings, {"findings": len(findings), **counts}, columns)


# ---------------------------------------------------------------------------------------
# discipline


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
            f"sort: one of {', '.join(DISCIPLINE_SORTS)}",
            f"sort：只能是 {'、'.join(DISCIPLINE_SORTS)} 之一",
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
            {"scope": "team", "owner": None, "team": data.team_names.get(r["team_id"]), **render(r)}
            for r in teams.iter_rows(named=True)
        ),
        key=lambda row: row["team"] or "",
    )
    totals = render(per_deal.select(metrics).row(0, named=True))
    columns = [
        "scope",
        "owner",
        "team",
        *DISCIPLINE_FIELDS,
    ]
    echo = params.echo(**{"from": date_from.isoformat(), "to": date_to.isoformat()}, sort=field)
    return ReportResult("discipline", echo, reps + team_rows, totals, columns)


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
                    "won_on": r["won_on"],
                    **render(r["won_cents"], r["paid_cents"]),
                }
            )
        named = ["deal_id", "owner", "won_on"]
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


INSIGHTS = {
    "stage_probability": stage_probability,
    "plan": plan,
    "diagnosis": diagnosis,
    "discipline": discipline,
    "collection": collection,
    "activities": activities,
}
