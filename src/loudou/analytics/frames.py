"""The data reports read, as Polars frames, and what is derived from it per pipeline.

Input frame schemas (times are ``Datetime("us", "UTC")``, money is integer cents):

- pipelines: id, key, is_default
- deals: id, owner_id, team_id, pipeline_id, stage_id, status ("open"|"won"|"lost"),
  amount_cents (null: no amount), expected_close_date (Date), source, forecast_category
  (per-deal override, "" for none), last_touch (latest of stage change, field edit and
  activity). created_at and closed_at are not read: they are the times of the deal's
  creation event and of its closing event (services keep them so), derived here.
- events: id, deal_id, from_stage_id, to_stage_id, at, forced (moved with an override of
  exit criteria), imported (written by a spreadsheet import: history from another system)
- stages: id, pipeline_id, key, kind ("open"|"won"|"lost"), position, probability
  (decimal string), forecast_category, rot_days, name_zh, name_en
- users: id, username, team_id, name (the display name; null: the username)
- teams: id, name
- payments: id, deal_id, amount_cents, paid_on (Date)
- activities: id, deal_id, type, at
- quotas: id, user_id, team_id (one of them), period_start, period_end (Dates, [start,
  end)), amount_cents

payments, activities and quotas may be left out (empty).

``Frames.prepare`` derives every pipeline's ``PipelineData`` once and drops the raw deals
and events, so a cached process holds one compact copy of the data.
"""

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

UTC_US = pl.Datetime("us", "UTC")
STATUS = pl.Enum(["open", "won", "lost"])
KIND = pl.Enum(["open", "won", "lost"])
CATEGORY = pl.Enum(["", "pipeline", "best_case", "commit", "closed", "omitted"])

PIPELINES_SCHEMA = {"id": pl.Int64, "key": pl.String, "is_default": pl.Boolean}
DEALS_SCHEMA = {
    "id": pl.Int64,
    "owner_id": pl.Int64,
    "team_id": pl.Int64,
    "pipeline_id": pl.Int64,
    "stage_id": pl.Int64,
    "status": pl.String,
    "amount_cents": pl.Int64,
    "expected_close_date": pl.Date,
    "source": pl.String,
    "forecast_category": pl.String,
    "last_touch": UTC_US,
}
EVENTS_SCHEMA = {
    "id": pl.Int64,
    "deal_id": pl.Int64,
    "from_stage_id": pl.Int64,
    "to_stage_id": pl.Int64,
    "at": UTC_US,
    "forced": pl.Boolean,
    "imported": pl.Boolean,
}
STAGES_SCHEMA = {
    "id": pl.Int64,
    "pipeline_id": pl.Int64,
    "key": pl.String,
    "kind": pl.String,
    "position": pl.Int64,
    "probability": pl.String,
    "forecast_category": pl.String,
    "rot_days": pl.Int64,
    "name_zh": pl.String,
    "name_en": pl.String,
}
USERS_SCHEMA = {"id": pl.Int64, "username": pl.String, "team_id": pl.Int64, "name": pl.String}
TEAMS_SCHEMA = {"id": pl.Int64, "name": pl.String}
PAYMENTS_SCHEMA = {
    "id": pl.Int64,
    "deal_id": pl.Int64,
    "amount_cents": pl.Int64,
    "paid_on": pl.Date,
}
ACTIVITIES_SCHEMA = {"id": pl.Int64, "deal_id": pl.Int64, "type": pl.String, "at": UTC_US}
QUOTAS_SCHEMA = {
    "id": pl.Int64,
    "user_id": pl.Int64,
    "team_id": pl.Int64,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "amount_cents": pl.Int64,
}
OPTIONAL = ("payments", "activities", "quotas")
SCHEMAS = {
    "pipelines": PIPELINES_SCHEMA,
    "deals": DEALS_SCHEMA,
    "events": EVENTS_SCHEMA,
    "stages": STAGES_SCHEMA,
    "users": USERS_SCHEMA,
    "teams": TEAMS_SCHEMA,
    "payments": PAYMENTS_SCHEMA,
    "activities": ACTIVITIES_SCHEMA,
    "quotas": QUOTAS_SCHEMA,
}


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select and cast ``frame`` to ``schema`` (time columns become UTC)."""
    if frame.height == 0 and not frame.columns:
        return pl.DataFrame(schema=schema)
    columns = []
    for name, dtype in schema.items():
        if name not in frame.columns:  # e.g. events without "forced"/"imported": none were
            columns.append(pl.lit(False if dtype == pl.Boolean else None, dtype).alias(name))
            continue
        col = pl.col(name)
        current = frame.schema[name]
        if dtype == UTC_US and isinstance(current, pl.Datetime):
            col = (
                col.dt.replace_time_zone("UTC")
                if current.time_zone is None
                else col.dt.convert_time_zone("UTC")
            )
            col = col.dt.cast_time_unit("us")
        elif dtype == UTC_US and current.is_integer():
            col = pl.from_epoch(col, time_unit="us").dt.replace_time_zone("UTC")
        elif dtype == UTC_US and current == pl.String:
            col = col.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC")
        elif dtype == pl.Date and current == pl.String:
            col = col.str.to_date("%Y-%m-%d")
        elif dtype == pl.String and current != pl.String:
            col = col.cast(pl.String)
        columns.append(col.cast(dtype).alias(name))
    return frame.select(columns)


@dataclass(frozen=True)
class Stage:
    id: int
    key: str
    kind: str
    index: int | None  # 1..n for open stages, n+1 for Won, None for Lost
    probability: Decimal
    forecast_category: str
    rot_days: int
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_zh if lang.startswith("zh") else self.name_en


@dataclass
class PipelineData:
    """A pipeline's data in the shape reports need, derived once per load.

    deals: id, owner_id, team_id, stage_id, status, amount_cents, expected_close_date,
      created_at, closed_at, source, forecast_category, last_touch, stage_entered_at,
      cur_idx (open stage index now, else null), max_stage (highest open index ever
      entered, or n+1 if ever won, even if reopened since: METRICS.md), rot_days (of the
      current stage). status is the status now: win rates count it, not max_stage.
    open_deals: the open subset of deals (snapshot and forecast read only these)
    events: deal_id, to_stage_id, at, from_idx, to_idx, from_kind, to_kind, created
      (true for the creation event), forced, imported, sorted by deal and time
    stays: completed stays in open stages: deal_id, stage_idx, exited_at, days
    payments: deal_id, amount_cents, paid_on, of this pipeline's deals
    activities: deal_id, type, at, of this pipeline's deals
    quotas: every quota (user_id, team_id, period_start, period_end, amount_cents)
    """

    pipeline_id: int
    key: str
    stages: list[Stage]
    n: int
    deals: pl.DataFrame
    open_deals: pl.DataFrame
    events: pl.DataFrame
    stays: pl.DataFrame
    latest_event_at: dt.datetime | None
    # Users by id: their usernames (what the owner filter and the outputs' ``owner``
    # hold) and their display names (``owner_name``, and the messages' words).
    owner_names: dict[int, str]
    team_names: dict[int, str]
    payments: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PAYMENTS_SCHEMA))
    activities: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ACTIVITIES_SCHEMA))
    quotas: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUOTAS_SCHEMA))
    user_teams: dict[int, int | None] = field(default_factory=dict)
    owner_labels: dict[int, str] = field(default_factory=dict)

    def owner_label(self, owner_id: int | None) -> str | None:
        """The display name of user ``owner_id`` (their username when they have none)."""
        if owner_id is None:
            return None
        return self.owner_labels.get(owner_id) or self.owner_names.get(owner_id, str(owner_id))

    @functools.cached_property
    def open_stages(self) -> list[Stage]:
        return [s for s in self.stages if s.kind == "open"]

    @functools.cached_property
    def won_deals(self) -> pl.DataFrame:
        return self.deals.filter(pl.col("status") == "won")

    @functools.cached_property
    def probabilities(self) -> dict[int, Decimal]:
        return {s.id: s.probability for s in self.stages}

    def stage_by_index(self, index: int) -> Stage:
        return next(s for s in self.stages if s.index == index)


@dataclass
class Frames:
    """All report input. After ``prepare`` only the derived per-pipeline data is kept."""

    pipelines: pl.DataFrame
    deals: pl.DataFrame
    events: pl.DataFrame
    stages: pl.DataFrame
    users: pl.DataFrame
    teams: pl.DataFrame
    payments: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PAYMENTS_SCHEMA))
    activities: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ACTIVITIES_SCHEMA))
    quotas: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUOTAS_SCHEMA))
    derived: dict[int, PipelineData] = field(default_factory=dict, repr=False)

    @classmethod
    def from_frames(cls, **frames: pl.DataFrame) -> "Frames":
        """Conform the raw frames, derive every pipeline, drop the raw deals and events."""
        for name in OPTIONAL:
            frames.setdefault(name, pl.DataFrame(schema=SCHEMAS[name]))
        built = cls(**{name: conform(frames[name], SCHEMAS[name]) for name in SCHEMAS})
        built.prepare()
        return built

    def prepare(self) -> None:
        for pipeline_id in self.pipelines["id"].to_list():
            self.derived[pipeline_id] = derive(self, pipeline_id)
        self.deals = self.deals.clear()
        self.events = self.events.clear()
        self.payments = self.payments.clear()
        self.activities = self.activities.clear()

    def pipeline_id(self, key: str | None) -> int | None:
        """The id of the pipeline ``key`` (the default pipeline when None)."""
        if key:
            found = self.pipelines.filter(pl.col("key") == key)
        else:
            found = self.pipelines.sort("is_default", "id", descending=[True, False])
        return found["id"][0] if found.height else None

    def pipeline(self, pipeline_id: int) -> PipelineData:
        return self.derived[pipeline_id]


def pipeline_stages(stages: pl.DataFrame, pipeline_id: int) -> list[Stage]:
    rows = stages.filter(pl.col("pipeline_id") == pipeline_id).sort("position", "id")
    open_ids = [r["id"] for r in rows.iter_rows(named=True) if r["kind"] == "open"]
    result = []
    for row in rows.iter_rows(named=True):
        if row["kind"] == "open":
            index = 1 + open_ids.index(row["id"])
        elif row["kind"] == "won":
            index = len(open_ids) + 1
        else:
            index = None
        result.append(
            Stage(
                id=row["id"],
                key=row["key"],
                kind=row["kind"],
                index=index,
                probability=Decimal(row["probability"]),
                forecast_category=row["forecast_category"],
                rot_days=row["rot_days"],
                name_zh=row["name_zh"],
                name_en=row["name_en"],
            )
        )
    return result


def _by_deal_in_time_order(events: pl.DataFrame) -> pl.DataFrame:
    """Events sorted by deal, then time (then id).

    Services append a deal's events with ids increasing and times never decreasing, so a
    stable sort by deal of id-ordered events is enough, and far cheaper than sorting on
    three keys. That is checked (vectorised) and the full sort used if it ever fails."""
    if not events["id"].is_sorted():
        events = events.sort("id")
    events = events.sort("deal_id", maintain_order=True)
    same_deal = pl.col("deal_id") == pl.col("deal_id").shift(1)
    if events.select((same_deal & (pl.col("at") < pl.col("at").shift(1))).any()).item():
        events = events.sort("deal_id", "at", "id")
    return events


def derive(frames: Frames, pipeline_id: int) -> PipelineData:
    """Per-pipeline derivation; see ``PipelineData``."""
    stages = pipeline_stages(frames.stages, pipeline_id)
    n = sum(1 for s in stages if s.kind == "open")
    deals = frames.deals.filter(pl.col("pipeline_id") == pipeline_id).drop("pipeline_id")
    idx = {s.id: s.index for s in stages}
    kind = {s.id: s.kind for s in stages}
    events = frames.events
    if frames.pipelines.height > 1:
        events = events.join(deals.select(pl.col("id").alias("deal_id")), on="deal_id", how="semi")
    events = _by_deal_in_time_order(events).select(
        "deal_id",
        "to_stage_id",
        "at",
        pl.col("from_stage_id")
        .replace_strict(idx, default=None, return_dtype=pl.Int8)
        .alias("from_idx"),
        pl.col("to_stage_id")
        .replace_strict(idx, default=None, return_dtype=pl.Int8)
        .alias("to_idx"),
        pl.col("from_stage_id")
        .replace_strict(kind, default=None, return_dtype=KIND)
        .alias("from_kind"),
        pl.col("to_stage_id")
        .replace_strict(kind, default=None, return_dtype=KIND)
        .alias("to_kind"),
        pl.col("from_stage_id").is_null().alias("created"),
        pl.col("forced").fill_null(False),
        pl.col("imported").fill_null(False),
    )
    per_deal = events.group_by("deal_id").agg(
        pl.col("to_idx").filter(pl.col("to_kind") == "open").max().alias("max_open_idx"),
        # METRICS.md: a deal won once reached every stage, even if it was reopened later.
        (pl.col("to_kind") == "won").any().alias("ever_won"),
        pl.col("at").first().alias("created_at"),
        pl.col("at").last().alias("stage_entered_at"),
    )
    deals = (
        deals.join(per_deal.rename({"deal_id": "id"}), on="id", how="left")
        .with_columns(
            pl.col("status").cast(STATUS),
            pl.col("forecast_category").cast(CATEGORY),
            pl.when(pl.col("source") == "")
            .then(None)
            .otherwise(pl.col("source"))
            .cast(pl.Categorical)
            .alias("source"),
            pl.when(pl.col("status") == "open")
            .then(pl.col("stage_id").replace_strict(idx, default=None, return_dtype=pl.Int8))
            .alias("cur_idx"),
            pl.when(pl.col("ever_won") | (pl.col("status") == "won"))
            .then(pl.lit(n + 1, dtype=pl.Int8))
            .otherwise(pl.col("max_open_idx"))
            .alias("max_stage"),
            pl.max_horizontal("last_touch", "stage_entered_at").alias("last_touch"),
            pl.when(pl.col("status") != "open").then(pl.col("stage_entered_at")).alias("closed_at"),
            pl.col("stage_id")
            .replace_strict({s.id: s.rot_days for s in stages}, default=14, return_dtype=pl.Int32)
            .alias("rot_days"),
        )
        .drop("max_open_idx", "ever_won")
    )
    # Events are sorted by deal, then time: the next row of the same deal ends a stay.
    next_at = pl.when(pl.col("deal_id").shift(-1) == pl.col("deal_id")).then(pl.col("at").shift(-1))
    stays = (
        events.with_columns(next_at.alias("exited_at"))
        .filter((pl.col("to_kind") == "open") & pl.col("exited_at").is_not_null())
        .select(
            "deal_id",
            pl.col("to_idx").alias("stage_idx"),
            "exited_at",
            ((pl.col("exited_at") - pl.col("at")).dt.total_microseconds() / 86_400e6).alias("days"),
        )
    )
    keys = frames.pipelines.filter(pl.col("id") == pipeline_id)["key"]
    ids = deals.select(pl.col("id").alias("deal_id"))
    return PipelineData(
        pipeline_id=pipeline_id,
        key=keys[0] if len(keys) else "",
        stages=stages,
        n=n,
        deals=deals,
        open_deals=deals.filter(pl.col("status") == "open"),
        events=events,
        stays=stays,
        latest_event_at=events["at"].max() if events.height else None,
        owner_names=dict(frames.users.select("id", "username").iter_rows()),
        team_names=dict(frames.teams.select("id", "name").iter_rows()),
        payments=frames.payments.join(ids, on="deal_id", how="semi").drop("id"),
        activities=(
            frames.activities
            if frames.pipelines.height <= 1
            else frames.activities.join(ids, on="deal_id", how="semi")
        ).select("deal_id", pl.col("type").cast(pl.Categorical), "at"),
        quotas=frames.quotas.drop("id"),
        user_teams=dict(frames.users.select("id", "team_id").iter_rows()),
        owner_labels=dict(frames.users.select("id", pl.coalesce("name", "username")).iter_rows()),
    )
