"""The forecast of METRICS.md: weighted pipeline and forecast categories by expected close
period, what was already won, and the seeded simulated range. Pure functions of
(data, params)."""

from decimal import Decimal
from typing import Any

import polars as pl

from .common import _add_months, _cents_x_bp, _keys, _named, _quarter_start, _within, visible_deals
from .frames import PipelineData
from .history import probabilities_for
from .params import ParamError, ReportParams, ReportResult, money, weighted_money
from .stats import percentiles, simulate_sums


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
        raise ParamError("a forecast covers at most five years", "预测期间最长五年", option="to")
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
        if params.by == "owner":
            labels = {k: data.owner_label(k) for k in data.owner_names}
            table = table.with_columns(
                pl.col(keys[0])
                .replace_strict(labels, default=None, return_dtype=pl.String)
                .alias("owner_name")
            )
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
