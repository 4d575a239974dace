"""The data reports read, as Polars frames, and what is derived from it per pipeline.

Frame schemas (times are ``Datetime("us", "UTC")``, money is integer cents):

- deals: id, owner_id, team_id, pipeline_id, stage_id, status ("open"|"won"|"lost"),
  amount_cents, currency, expected_close_date (Date), created_at, closed_at, source,
  forecast_category (per-deal override, "" for none), updated_at, stage_entered_at,
  last_activity_at
- events: id, deal_id, from_stage_id, to_stage_id, at
- stages: id, pipeline_id, key, kind ("open"|"won"|"lost"), position, probability
  (decimal string), forecast_category, rot_days, name_zh, name_en
- pipelines: id, key, is_default
- users: id, username, team_id
- teams: id, name
"""

import datetime as dt
import threading
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

UTC_US = pl.Datetime("us", "UTC")

DEALS_SCHEMA = {
    "id": pl.Int64,
    "owner_id": pl.Int64,
    "team_id": pl.Int64,
    "pipeline_id": pl.Int64,
    "stage_id": pl.Int64,
    "status": pl.String,
    "amount_cents": pl.Int64,
    "currency": pl.String,
    "expected_close_date": pl.Date,
    "created_at": UTC_US,
    "closed_at": UTC_US,
    "source": pl.String,
    "forecast_category": pl.String,
    "updated_at": UTC_US,
    "stage_entered_at": UTC_US,
    "last_activity_at": UTC_US,
}
EVENTS_SCHEMA = {
    "id": pl.Int64,
    "deal_id": pl.Int64,
    "from_stage_id": pl.Int64,
    "to_stage_id": pl.Int64,
    "at": UTC_US,
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
PIPELINES_SCHEMA = {"id": pl.Int64, "key": pl.String, "is_default": pl.Boolean}
USERS_SCHEMA = {"id": pl.Int64, "username": pl.String, "team_id": pl.Int64}
TEAMS_SCHEMA = {"id": pl.Int64, "name": pl.String}
SCHEMAS = {
    "pipelines": PIPELINES_SCHEMA,
    "deals": DEALS_SCHEMA,
    "events": EVENTS_SCHEMA,
    "stages": STAGES_SCHEMA,
    "users": USERS_SCHEMA,
    "teams": TEAMS_SCHEMA,
}


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select and cast ``frame`` to ``schema`` (time columns become UTC)."""
    columns = []
    for name, dtype in schema.items():
        col = pl.col(name)
        current = frame.schema[name]
        if dtype == UTC_US and isinstance(current, pl.Datetime):
            col = (
                col.dt.replace_time_zone("UTC")
                if current.time_zone is None
                else col.dt.convert_time_zone("UTC")
            )
            col = col.dt.cast_time_unit("us")
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
    """A pipeline's frames with the columns every report needs, derived once.

    deals (+ cur_idx: open stage index now or null; max_stage: highest open index ever
    entered, or n+1 if the deal is won; rot_days; last_touch; owner; team),
    events (+ from_idx, to_idx, to_kind, from_kind), stays (completed stays in open
    stages: deal_id, stage_idx, entered_at, exited_at, days).
    """

    pipeline_id: int
    key: str
    stages: list[Stage]
    n: int
    deals: pl.DataFrame
    events: pl.DataFrame
    stays: pl.DataFrame
    latest_event_at: dt.datetime | None

    @property
    def open_stages(self) -> list[Stage]:
        return [s for s in self.stages if s.kind == "open"]

    def stage_by_index(self, index: int) -> Stage:
        return next(s for s in self.stages if s.index == index)


@dataclass
class Frames:
    """All report input, plus a cache of per-pipeline derivations."""

    pipelines: pl.DataFrame
    deals: pl.DataFrame
    events: pl.DataFrame
    stages: pl.DataFrame
    users: pl.DataFrame
    teams: pl.DataFrame
    _derived: dict[int, PipelineData] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_frames(cls, **frames: pl.DataFrame) -> "Frames":
        return cls(**{name: conform(frames[name], SCHEMAS[name]) for name in SCHEMAS})

    def pipeline_id(self, key: str | None) -> int | None:
        """The id of the pipeline ``key`` (the default pipeline when None)."""
        if key:
            found = self.pipelines.filter(pl.col("key") == key)
        else:
            found = self.pipelines.sort("is_default", "id", descending=[True, False])
        return found["id"][0] if found.height else None

    def pipeline(self, pipeline_id: int) -> PipelineData:
        with self._lock:
            if pipeline_id not in self._derived:
                self._derived[pipeline_id] = derive(self, pipeline_id)
            return self._derived[pipeline_id]


def pipeline_stages(stages: pl.DataFrame, pipeline_id: int) -> list[Stage]:
    rows = stages.filter(pl.col("pipeline_id") == pipeline_id).sort("position", "id")
    open_rows = [r for r in rows.iter_rows(named=True) if r["kind"] == "open"]
    n = len(open_rows)
    result = []
    for row in rows.iter_rows(named=True):
        if row["kind"] == "open":
            index = 1 + [r["id"] for r in open_rows].index(row["id"])
        elif row["kind"] == "won":
            index = n + 1
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


def derive(frames: Frames, pipeline_id: int) -> PipelineData:
    """Per-pipeline derivation; see ``PipelineData``."""
    stages = pipeline_stages(frames.stages, pipeline_id)
    n = sum(1 for s in stages if s.kind == "open")
    stage_table = pl.DataFrame(
        {
            "stage_id": [s.id for s in stages],
            "idx": [s.index for s in stages],
            "kind": [s.kind for s in stages],
            "rot_days": [s.rot_days for s in stages],
        },
        schema={"stage_id": pl.Int64, "idx": pl.Int64, "kind": pl.String, "rot_days": pl.Int64},
    )
    deals = frames.deals.filter(pl.col("pipeline_id") == pipeline_id)
    events = frames.events.join(deals.select(pl.col("id").alias("deal_id")), on="deal_id")
    events = (
        events.join(
            stage_table.select(
                pl.col("stage_id").alias("to_stage_id"),
                pl.col("idx").alias("to_idx"),
                pl.col("kind").alias("to_kind"),
            ),
            on="to_stage_id",
            how="left",
        )
        .join(
            stage_table.select(
                pl.col("stage_id").alias("from_stage_id"),
                pl.col("idx").alias("from_idx"),
                pl.col("kind").alias("from_kind"),
            ),
            on="from_stage_id",
            how="left",
        )
        .sort("deal_id", "at", "id")
    )
    reached = (
        events.filter(pl.col("to_kind") == "open")
        .group_by("deal_id")
        .agg(pl.col("to_idx").max().alias("max_open_idx"))
    )
    deals = (
        deals.join(
            stage_table.select("stage_id", pl.col("idx").alias("stage_idx"), "kind", "rot_days"),
            on="stage_id",
            how="left",
        )
        .join(reached.rename({"deal_id": "id"}), on="id", how="left")
        .join(
            frames.users.select(pl.col("id").alias("owner_id"), pl.col("username").alias("owner")),
            on="owner_id",
            how="left",
        )
        .join(
            frames.teams.select(pl.col("id").alias("team_id"), pl.col("name").alias("team")),
            on="team_id",
            how="left",
        )
        .with_columns(
            pl.when(pl.col("status") == "open").then(pl.col("stage_idx")).alias("cur_idx"),
            pl.when(pl.col("status") == "won")
            .then(pl.lit(n + 1, dtype=pl.Int64))
            .otherwise(pl.col("max_open_idx"))
            .alias("max_stage"),
            pl.max_horizontal("stage_entered_at", "updated_at", "last_activity_at").alias(
                "last_touch"
            ),
            pl.when(pl.col("source") == "").then(None).otherwise(pl.col("source")).alias("source"),
        )
        .drop("stage_idx", "kind", "max_open_idx")
    )
    stays = (
        events.with_columns(pl.col("at").shift(-1).over("deal_id").alias("exited_at"))
        .filter((pl.col("to_kind") == "open") & pl.col("exited_at").is_not_null())
        .select(
            "deal_id",
            pl.col("to_idx").alias("stage_idx"),
            pl.col("at").alias("entered_at"),
            "exited_at",
            ((pl.col("exited_at") - pl.col("at")).dt.total_microseconds() / 86_400e6).alias("days"),
        )
    )
    latest = events["at"].max() if events.height else None
    keys = frames.pipelines.filter(pl.col("id") == pipeline_id)["key"]
    return PipelineData(
        pipeline_id=pipeline_id,
        key=keys[0] if len(keys) else "",
        stages=stages,
        n=n,
        deals=deals,
        events=events,
        stays=stays,
        latest_event_at=latest,
    )
