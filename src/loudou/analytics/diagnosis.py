"""Diagnosis (METRICS.md: 漏斗形状、异常转化、个人对比): findings thin_top, bottleneck,
stuck, rep_outlier and stale, each with its numbers and a message in zh-Hans and
English. Pure functions of (data, params); the choices are in docs/reports.md."""

import datetime as dt
from fractions import Fraction
from typing import Any

import polars as pl

from .common import (
    _average_won,
    _days,
    _needed,
    _no_grouping,
    _within,
    quota_target,
    visible_deals,
)
from .frames import PipelineData
from .history import MIN_SAMPLE, probabilities_for
from .params import ReportParams, ReportResult, money
from .stats import two_proportion_z

SIGNIFICANCE = 0.05


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
    owner_name: str | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "severity": severity,
        "stage": stage.key if stage else None,
        "stage_name": stage.name(params.lang) if stage else None,
        "owner": owner,
        "owner_name": owner_name,
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
    return quota_target(data, params, start, end)


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
        name = data.owner_label(r["owner_id"])
        mine, theirs = r["passed"] / r["decided"], rest_x / rest_n
        pair_zh, pair_en = _stage_pair(data, r["k"])
        findings.append(
            _finding(
                "rep_outlier",
                "medium",
                f"{name} 的 {pair_zh} 转化率 {_pct(mine)}（n={r['decided']}），"
                "明显低于团队其他人的 "
                f"{_pct(theirs)}（n={rest_n}）：适合一对一辅导",
                f"{name}'s {pair_en} conversion is {_pct(mine)} (n={r['decided']}), clearly "
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
                owner_name=name,
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
        .agg(
            pl.len().alias("open"),
            pl.col("stale").sum().alias("stale"),
            # the deals to open first: the longest untouched, as the stuck finding lists
            pl.col("id")
            .filter(pl.col("stale"))
            .sort_by(pl.col("last_touch").filter(pl.col("stale")))
            .head(20)
            .alias("deal_ids"),
        )
        .filter(pl.col("stale") > 0)
    )
    for owner_id, open_count, stale_count, deal_ids in stale.select(
        "owner_id", "open", "stale", "deal_ids"
    ).iter_rows():
        owner = data.owner_names.get(owner_id, str(owner_id))
        name = data.owner_label(owner_id)
        share = stale_count / open_count
        findings.append(
            _finding(
                "stale",
                "high" if share >= 0.5 else "medium" if share >= 0.2 else "low",
                f"{name} 有 {stale_count} 个商机跟进不及时"
                f"（共 {open_count} 个进行中，{_pct(share)}）："
                "请更新进展或记录活动",
                f"{name} has {_deals_en(stale_count)} nobody has touched for too long "
                f"({_pct(share)} of {open_count} open): update them or log the activity",
                {
                    "stale": stale_count,
                    "open": open_count,
                    "share": round(share, 4),
                    "deal_ids": deal_ids,
                },
                params,
                owner=owner,
                owner_name=name,
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
        "owner_name",
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
