"""The source's stages and where they go: the catalogue (every stage with its count,
order, probability and kind), the proposed mapping onto a Loudou pipeline (by name, by a
stages file, else by probability or order: a guess the user must confirm), and the
mirror pipeline (the source's own stages, order and probabilities)."""

import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl
from django.utils.text import slugify

from loudou.pipelines.models import Pipeline, Stage, StageKind

from ..columns import normalise
from ..lookups import LOST_WORDS, WON_WORDS, Lookups
from ..reader import FileError
from .order import STATED, Transitions, estimated_probabilities, order_open
from .timeparse import PLAIN_TIME, parse_times

# How a stage was mapped; the last two are guesses that need the user's word.
BY_OUTCOME, BY_NAME, BY_FILE, BY_MIRROR = "outcome", "name", "file", "mirror"
BY_PROBABILITY, BY_ORDER = "probability", "order"
GUESSES = (BY_PROBABILITY, BY_ORDER)


@dataclass
class SourceStage:
    """One stage of the source, as the export shows it."""

    label: str
    count: int  # deals now in it
    entries: int  # history rows into it
    order: float | None  # the place the export states (StageSortOrder) or the user gives
    probability: float | None  # percent, the export's (the most common value)
    kind: str  # open | won | lost
    target: Stage | None = None
    how: str = ""
    mirror_key: str = ""  # its stage in the mirror pipeline (known before it is made)
    place: int = 0  # 1, 2, … in the source's order (order.py), outcomes last
    order_how: str = ""  # how its place was found (order.GIVEN, STATED, HISTORY …)
    estimate: float | None = None  # percent, when the export tells no probability

    @property
    def chance(self) -> float | None:
        """The probability the mirror and the proposal use: the export's, else the
        estimate."""
        return self.probability if self.probability is not None else self.estimate

    def target_names(self) -> tuple[str, str] | None:
        """Where it goes, as people read it (zh-Hans, English)."""
        if self.target is not None:
            return self.target.name_zh, self.target.name_en
        if self.mirror_key:
            if self.kind == StageKind.OPEN:
                return self.label[:100], self.label[:100]
            return OUTCOME_NAMES[self.kind]
        return None

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "count": self.count,
            "entries": self.entries,
            "order": self.order,
            "place": self.place,
            "order_how": self.order_how,
            "probability": self.chance,
            "estimated": self.probability is None and self.estimate is not None,
            "kind": self.kind,
            "target": self.target.key if self.target is not None else self.mirror_key or None,
            "target_names": self.target_names(),
            "how": self.how,
        }


# The names of a mirror pipeline's outcome stages (pipelines.services.ensure_outcome_stages).
OUTCOME_NAMES = {StageKind.WON: ("签约成单", "Won (signed)"), StageKind.LOST: ("输单", "Lost")}


def _kind_by_name(label: str, probability: float | None) -> str:
    text = normalise(label).replace("-", " ")
    if text in WON_WORDS or text.endswith("won") or text in ("赢单", "成交", "已成交"):
        return StageKind.WON
    if text in LOST_WORDS or text.endswith("lost") or text in ("输单", "丢单", "已输单"):
        return StageKind.LOST
    return StageKind.OPEN


def catalogue(
    deals: pl.DataFrame,
    history: pl.DataFrame | None,
    outcome_stages: bool = True,
    orders: dict[str, float] | None = None,
    *,
    listed: dict[str, float] | None = None,
    zone: str = "UTC",
) -> list[SourceStage]:
    """Every stage the deals and their history name, in the source's order (order.py:
    the stated order, ``orders`` the user gives, the history's transitions, ``listed``
    the order the export lists them in), open stages first, then won, then lost; with
    the export's probabilities, and an estimate for an open stage without one. A stage
    whose every deal is closed (and all won or all lost) is an outcome; so is one named
    like one ('Closed Won', 赢单) and never held by an open deal."""
    per_stage = (
        deals.filter(pl.col("stage").is_not_null())
        .group_by("stage", maintain_order=True)
        .agg(
            count=pl.len(),
            order=pl.col("stage_order").min(),
            all_closed=pl.col("closed").fill_null(False).all(),
            all_won=(pl.col("won").fill_null(False) & pl.col("closed").fill_null(False)).all(),
            none_won=(~pl.col("won").fill_null(False)).all(),
        )
    )
    stages: dict[str, SourceStage] = {}
    for row in per_stage.iter_rows(named=True):
        kind = StageKind.OPEN
        if not outcome_stages:
            pass
        elif row["all_closed"] and row["all_won"]:
            kind = StageKind.WON
        elif row["all_closed"] and row["none_won"]:
            kind = StageKind.LOST
        stages[row["stage"]] = SourceStage(row["stage"], row["count"], 0, row["order"], None, kind)
    if history is not None and history.height:
        per_history = (
            history.filter(pl.col("stage").is_not_null())
            .group_by("stage", maintain_order=True)
            .agg(entries=pl.len())
        )
        for row in per_history.iter_rows(named=True):
            stage = stages.get(row["stage"])
            if stage is None:
                label = row["stage"]
                stage = stages[label] = SourceStage(
                    label, 0, 0, None, None, _kind_by_name(label, None)
                )
            stage.entries = row["entries"]
    for label, probability in _probabilities(deals, history).items():
        stages[label].probability = probability
    for stage in stages.values():  # outcome by name, when no open deal holds it
        by_name = _kind_by_name(stage.label, None) if outcome_stages else StageKind.OPEN
        if stage.kind == StageKind.OPEN and by_name != StageKind.OPEN:
            held_open = deals.filter(
                (pl.col("stage") == stage.label) & (pl.col("closed") == False)  # noqa: E712
            ).height
            if not held_open:
                stage.kind = by_name
    for label, place in (orders or {}).items():  # the user's order
        if label in stages:
            stages[label].order = place
    opens = [s.label for s in stages.values() if s.kind == StageKind.OPEN]
    ordered = order_open(
        opens,
        stated={s.label: s.order for s in stages.values() if s.order is not None},
        given=[label for label in orders or {} if label in stages],
        transitions=_transitions(deals, history, zone),
        outcomes={s.label: s.order for s in stages.values() if s.kind != StageKind.OPEN},
        probabilities={
            s.label: s.probability for s in stages.values() if s.probability is not None
        },
        listed=listed or {},
    )
    first_seen = {label: i for i, label in enumerate(stages)}
    inf = float("inf")
    outcomes = sorted(
        (s for s in stages.values() if s.kind != StageKind.OPEN),
        key=lambda s: (
            s.kind != StageKind.WON,
            s.order if s.order is not None else inf,
            first_seen[s.label],
        ),
    )
    result = [stages[label] for label in ordered.labels] + outcomes
    known = {label: stages[label].probability for label in ordered.labels}
    estimates = estimated_probabilities(
        ordered.labels, {k: v for k, v in known.items() if v is not None}
    )
    for place, stage in enumerate(result, start=1):
        stage.place = place
        stage.order_how = ordered.how.get(stage.label, STATED if stage.order is not None else "")
        stage.estimate = estimates.get(stage.label)
    return result


def _probabilities(deals: pl.DataFrame, history: pl.DataFrame | None) -> dict[str, float]:
    """Each stage's probability as the export tells it: the most common value among its
    deals (Opportunity.Probability) and its history rows (OpportunityHistory.Probability);
    of equally common values, the lowest."""
    parts = [deals.select("stage", "probability")]
    if history is not None and history.height:
        parts.append(history.select("stage", "probability"))
    values = pl.concat(parts).drop_nulls()
    if values.height == 0:
        return {}
    common = (
        values.group_by("stage", "probability")
        .len()
        .sort(["stage", "len", "probability"], descending=[False, True, False])
        .group_by("stage", maintain_order=True)
        .first()
    )
    return dict(common.select("stage", "probability").iter_rows())


def _transitions(deals: pl.DataFrame, history: pl.DataFrame | None, zone: str) -> Transitions:
    """(from, to) -> how many times a deal went so: each deal's history rows in time order
    (repeats collapsed), then its current stage; ``from`` is None for its first stage."""
    current = deals.filter(pl.col("stage").is_not_null() & pl.col("external_id").is_not_null())
    parts = [
        current.select(
            "external_id", "stage", at=pl.lit(None, pl.String), row="row", last=pl.lit(True)
        )
    ]
    if history is not None and history.height:
        h = history.filter(
            pl.col("stage").is_not_null()
            & pl.col("external_id").is_not_null()
            & pl.col("at").is_not_null()
        )
        h = h.with_columns(at=_sortable(h, zone)).filter(pl.col("at").is_not_null())
        parts.insert(0, h.select("external_id", "stage", "at", "row", last=pl.lit(False)))
    timeline = pl.concat(parts).sort("external_id", "last", "at", "row")
    same_deal = pl.col("external_id") == pl.col("external_id").shift(1)
    before = pl.when(same_deal).then(pl.col("stage").shift(1))
    steps = timeline.with_columns(before=before).filter(
        pl.col("before").is_null() | (pl.col("before") != pl.col("stage"))
    )
    counts = steps.group_by("before", "stage").len()
    return {(a, b): n for a, b, n in counts.iter_rows()}


def _sortable(history: pl.DataFrame, zone: str) -> pl.Series:
    """The history's times as text that sorts as they follow each other: as written when
    every one is ISO in one shape (Salesforce's "2024-03-05T10:20:30.000Z"), else parsed
    (an unreadable time, the planner's to report, leaves its row out here)."""
    text = history.get_column("at")
    one_shape = (
        text.str.len_bytes().n_unique() == 1
        and text.str.slice(10, 1).n_unique() == 1  # "T" or " " between date and time
        and text.str.ends_with("Z").n_unique() == 1
        and text.str.contains(PLAIN_TIME).all()
    )
    if one_shape:
        return text
    at = parse_times(history, "at", zone, file="", header="", errors=[])
    return at.dt.strftime("%Y-%m-%dT%H:%M:%S%.6f")


def load_stages_file(path: Path | None) -> tuple[dict[str, str], list[str]]:
    """A stages file: ``[stages] "Their stage" = "our stage key"`` (or a flat table), and
    ``order = ["First stage", "Second stage", …]``, the source's order of its open stages
    when the export does not tell it (for ``--mirror-pipeline``)."""
    if path is None:
        return {}, []
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FileError(f"阶段文件 {path} 无法读取：{exc}", f"stages file {path}: {exc}") from exc
    table = data.get("stages", data)
    order = data.get("order", [])
    if not isinstance(table, dict) or not isinstance(order, list):
        raise FileError(
            f"阶段文件 {path}：[stages] 应为表，order 应为列表",
            f"stages file {path}: [stages] must be a table and order a list",
        )
    mapping = {normalise(k): str(v) for k, v in table.items() if isinstance(v, str)}
    return mapping, [str(x) for x in order]


def propose(
    stages: list[SourceStage], ctx: Lookups, pipeline: Pipeline, given: dict[str, str]
) -> None:
    """Each stage's target in ``pipeline`` and how it was found (``target``, ``how``).
    A stage the file maps to no stage of the pipeline keeps no target."""
    # A guess never proposes an archived stage (no deal may be in one now); a stage named
    # like one, or chosen, is checked by the migration (history may pass through it).
    opens = [s for s in ctx.open_order.get(pipeline.pk, []) if not s.archived]
    outcome = {s.kind: s for s in ctx.stages.get(pipeline.pk, {}).values() if not s.is_open}
    source_open = [s for s in stages if s.kind == StageKind.OPEN]
    for stage in stages:
        stage.target, stage.how = None, ""
        key = normalise(stage.label)
        if key in given:
            stage.target = ctx.stages.get(pipeline.pk, {}).get(given[key].strip().lower())
            stage.how = BY_FILE
        elif stage.kind != StageKind.OPEN:
            stage.target, stage.how = outcome.get(stage.kind), BY_OUTCOME
        elif (named := ctx.stage(pipeline, stage.label)) is not None and named.is_open:
            stage.target, stage.how = named, BY_NAME
        elif opens and stage.chance is not None:
            # The export's probability; else the estimate from its neighbours in the
            # source's order (order.py), so that a guess keeps the source's order.
            stage.target = min(
                opens,
                key=lambda s: (abs(float(s.probability) * 100 - stage.chance), s.position),
            )
            stage.how = BY_PROBABILITY if stage.probability is not None else BY_ORDER
        elif opens:
            i = source_open.index(stage)
            at = round(i * (len(opens) - 1) / max(len(source_open) - 1, 1))
            stage.target, stage.how = opens[at], BY_ORDER


def proposal_toml(stages: list[SourceStage]) -> str:
    """The mapping as a stages file the user can edit and pass back with ``--stages``."""
    lines = [
        "# Source stage = Loudou stage key (edit, then pass with --stages FILE)",
        "# 来源阶段 = Loudou 阶段标识（修改后用 --stages 文件 传入）",
        "[stages]",
    ]
    for stage in stages:
        target = stage.target.key if stage.target is not None else ""
        note = f"  # {stage.count} deals, {stage.how or 'unmapped'}"
        label = stage.label.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'"{label}" = "{target}"{note}')
    return "\n".join(lines) + "\n"


def mirror_spec(stages: list[SourceStage], name: str) -> dict[str, object]:
    """The pipeline ``--mirror-pipeline NAME`` creates: the source's open stages in its
    order with its probabilities (then Won and Lost)."""
    key = slugify(name)[:50] or "migrated"
    taken: set[str] = {"won", "lost"}
    specs = []
    opens = [s for s in stages if s.kind == StageKind.OPEN]
    for i, stage in enumerate(opens, start=1):
        # "Proposal/Price Quote" -> proposal-price-quote (slugify alone drops the "/").
        base = slugify(re.sub(r"[^\w]+", " ", stage.label))[:40] or f"stage-{i}"
        stage_key = base
        while stage_key in taken:
            stage_key = f"{base}-{i}"
        taken.add(stage_key)
        # The export's, else the estimate (the catalogue gives every open stage one).
        probability = stage.chance or 0.0
        specs.append(
            {
                "key": stage_key,
                "name": stage.label[:100],
                "probability": Decimal(str(round(min(max(probability, 0), 100) / 100, 4))),
                "source": stage.label,
            }
        )
    by_label = {spec["source"]: spec["key"] for spec in specs}
    for stage in stages:
        stage.how = "mirror"
        stage.mirror_key = by_label.get(stage.label, str(stage.kind))
    return {"key": key, "name": name[:100], "stages": specs}
