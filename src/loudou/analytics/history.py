"""What the organisation's history says: stage-to-win rates over a look-back window, and
the probabilities forecast and plan use (configured, or historical where history is
enough). Pure functions of a pipeline's frames."""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from .common import visible_deals
from .frames import PipelineData
from .params import ParamError, ReportParams

MIN_SAMPLE = 20  # closed deals that reached a stage: below this, history is "thin"
BP = Decimal("0.0001")


def window(
    params: ReportParams, use_period: bool = False
) -> tuple[dt.datetime, dt.datetime, dt.date, dt.date]:
    """The look-back window of closures: the ``window_days`` days up to now, or with
    ``use_period`` (stage_probability) [from, to) when given. (start, end) as instants,
    then as local dates for the echo."""
    if use_period and (params.date_from or params.date_to):
        date_from, date_to = params.period(params.window_days)
        return params.instant(date_from), params.instant(date_to), date_from, date_to
    end = params.now
    start = end - dt.timedelta(days=params.window_days)
    tz = params.tz
    return start, end, start.astimezone(tz).date(), end.astimezone(tz).date()


def closed_in(deals: pl.DataFrame, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    return deals.filter(
        pl.col("status").is_in(["won", "lost"])
        & (pl.col("closed_at") >= start)
        & (pl.col("closed_at") < end)
    )


def stage_win_counts(
    data: PipelineData, closed: pl.DataFrame, keys: list[str] | None = None
) -> pl.DataFrame:
    """Per open stage index k (and ``keys``): closed deals that reached k, and of them won.
    Columns: *keys, idx, closed, won."""
    keys = keys or []
    ks = pl.DataFrame({"idx": [s.index for s in data.open_stages]}, schema={"idx": pl.Int8})
    return (
        closed.select(*keys, pl.col("max_stage").fill_null(0), "status")
        .join(ks, how="cross")
        .filter(pl.col("max_stage") >= pl.col("idx"))
        .group_by(*keys, "idx")
        .agg(pl.len().alias("closed"), (pl.col("status") == "won").sum().alias("won"))
    )


@dataclass(frozen=True)
class Probabilities:
    """Per stage id: the probability used and where it came from."""

    by_stage: dict[int, Decimal]
    source: dict[int, str]  # "configured" | "historical"
    sample: dict[int, int]  # closed deals behind a historical rate (0 when configured)


def probabilities_for(data: PipelineData, params: ReportParams, default: str) -> Probabilities:
    """Configured probabilities, or (``--probabilities historical``) each open stage's
    historical rate over the window, rounded to basis points as configured ones are
    stored, where at least MIN_SAMPLE closed deals reached it; configured elsewhere."""
    choice = params.probabilities or default
    configured = {s.id: s.probability for s in data.stages}
    source = {s.id: "configured" for s in data.stages}
    sample = {s.id: 0 for s in data.stages}
    if choice == "configured":
        return Probabilities(configured, source, sample)
    start, end, *_ = window(params)
    counts = stage_win_counts(data, closed_in(visible_deals(data, params), start, end))
    by_idx = {r["idx"]: r for r in counts.iter_rows(named=True)}
    chosen = dict(configured)
    for stage in data.open_stages:
        r = by_idx.get(stage.index)
        if r and r["closed"] >= MIN_SAMPLE:
            rate = Decimal(r["won"]) / Decimal(r["closed"])
            chosen[stage.id] = rate.quantize(BP, rounding=ROUND_HALF_UP)
            source[stage.id] = "historical"
            sample[stage.id] = r["closed"]
    return Probabilities(chosen, source, sample)


def require_target(params: ReportParams, report: str) -> Decimal:
    if params.target is None:
        raise ParamError(
            f"the {report} needs the revenue target for the period (no quota covers it)",
            "请填写本期间的收入目标（没有覆盖该期间的配额）",
            option="target",
            form=(
                "enter the revenue target for the period (or set quotas for it)",
                "请填写本期间的收入目标（或为该期间设置配额）",
            ),
        )
    return params.target
