"""Plans of deals turned into database rows, and those rows written: the mechanical half of
``deals.bulk`` (which decides what may be written)."""

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl
from django.db.backends.base.base import BaseDatabaseWrapper

from loudou.bulkload.sql import datetime_column, decimal_column, insert_many, reserve_ids
from loudou.people.models import Team, User
from loudou.pipelines.models import Pipeline, Stage

from .models import LostReason

UTC_US = pl.Datetime("us", "UTC")

# A new deal's columns as a plan gives them (``insert_new``); the rules add the rest.
NEW_COLUMNS = {
    "name": pl.String,
    "external_id": pl.String,
    "account_id": pl.Int64,
    "owner_id": pl.Int64,
    "owner_team": pl.Int64,  # the owner's team (not a deal column): placement, default team
    "team_id": pl.Int64,
    "pipeline_id": pl.Int64,
    "amount": pl.String,  # plain decimal text with two places ("1234.50")
    "currency": pl.String,
    "expected_close_date": pl.Date,
    "lost_reason_id": pl.Int64,
    "lost_note": pl.String,
    "source": pl.String,
    "forecast_category": pl.String,
    "updated_at": UTC_US,
    "last_activity_at": UTC_US,
}
EVENT_COLUMNS = {"pos": pl.Int64, "stage_id": pl.Int64, "at": UTC_US, "by_id": pl.Int64}
# Beside NEW_COLUMNS, a plan may give custom field values (JSON text; null or missing: none).
CUSTOM_COLUMN = "custom"
# The deals_deal columns written, in order (after id).
DEAL_COLUMNS = (
    "name",
    "external_id",
    "account_id",
    "owner_id",
    "team_id",
    "pipeline_id",
    "stage_id",
    "stage_entered_at",
    "status",
    "amount",
    "currency",
    "expected_close_date",
    "created_at",
    "closed_at",
    "lost_reason_id",
    "lost_note",
    "source",
    "forecast_category",
    "updated_at",
    "last_activity_at",
    "custom",
)
TIMES = ("stage_entered_at", "created_at", "closed_at", "updated_at", "last_activity_at")

# The same words whoever's deal holds the id: nothing about that deal is told.


@dataclass(frozen=True)
class Step:
    """One entry of a planned history: into ``stage`` at ``at`` (recorded as by ``by``)."""

    stage: Stage
    at: dt.datetime
    by: User | None = None


@dataclass
class PlannedDeal:
    """A deal as a plan describes it: its fields and its whole history.

    ``fields``: name, external_id (or None), account_id, owner (User), team (Team or
    None: the owner's), pipeline, amount (Decimal or None), currency, expected_close_date,
    lost_reason (LostReason or None), lost_note, source, forecast_category, updated_at,
    last_activity_at; and custom when the plan gives custom fields (key -> value as
    ``values.clean_custom`` gives it, None: empty; fields it does not name stay as they
    are). ``undated``: the plan gave no time at all, so the creation time is
    the clock's: a known deal keeps its own history, and moves now into the plan's last
    stage if the plan states one (``stage_stated``) and it is elsewhere."""

    row: int
    fields: dict[str, Any]
    steps: list[Step]
    undated: bool = False
    stage_stated: bool = True
    # The plan's words for its fields, as its source wrote them (for messages).
    given: dict[str, str] = field(default_factory=dict)

    @property
    def external_id(self) -> str | None:
        return self.fields.get("external_id")

    def natural_key(self) -> tuple:
        return (self.fields["name"], self.fields["account_id"])


def plan_frames(plans: list[PlannedDeal]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """New deals' plans as the columns ``insert_new`` takes."""
    rows = [p.row for p in plans]
    values = [deal_values(p.fields) for p in plans]
    data: dict[str, Any] = {"row": rows}
    for column in NEW_COLUMNS:
        column_values = [v[column] for v in values]
        if column == "amount":
            column_values = [None if a is None else str(a) for a in column_values]
        elif NEW_COLUMNS[column] == UTC_US:
            column_values = [None if t is None else t.astimezone(dt.UTC) for t in column_values]
        data[column] = column_values
    data[CUSTOM_COLUMN] = [
        json.dumps(v["custom"], ensure_ascii=False) if v["custom"] else None for v in values
    ]
    deals = pl.DataFrame(data, schema={"row": pl.Int64, **NEW_COLUMNS, CUSTOM_COLUMN: pl.String})
    events = pl.DataFrame(
        {
            "pos": [i for i, p in enumerate(plans) for _ in p.steps],
            "stage_id": [s.stage.pk for p in plans for s in p.steps],
            "at": [s.at.astimezone(dt.UTC) for p in plans for s in p.steps],
            "by_id": [s.by.pk if s.by else None for p in plans for s in p.steps],
        },
        schema=EVENT_COLUMNS,
    )
    return deals, events


def deal_rows_of(frame: pl.DataFrame, db: BaseDatabaseWrapper) -> tuple[list[tuple], list[str]]:
    """New deals (every ``DEAL_COLUMNS`` column) as rows adapted for ``db``, and their
    external ids."""
    columns: dict[str, Any] = {c: frame.get_column(c) for c in DEAL_COLUMNS}
    for c in TIMES:
        columns[c] = datetime_column(db, columns[c])
    columns["amount"] = decimal_column(db, columns["amount"])
    columns["custom"] = columns["custom"].fill_null("{}")
    expected = columns["expected_close_date"]
    columns["expected_close_date"] = (
        expected.dt.strftime("%Y-%m-%d") if db.vendor == "sqlite" else expected
    ).to_list()
    external_ids = columns["external_id"].drop_nulls().to_list()
    rows = list(
        zip(*[v if isinstance(v, list) else v.to_list() for v in columns.values()], strict=True)
    )
    return rows, external_ids


def chain_rows_of(events: pl.DataFrame, db: BaseDatabaseWrapper) -> list[tuple]:
    """New deals' events (deal: position among the new deals; stage_id, at, by_id, in
    history order) as rows (position, from, to, at, by) adapted for ``db``."""
    chains = events.select(
        "deal",
        from_stage=pl.col("stage_id").shift(1).over("deal"),
        stage_id="stage_id",
        at="at",
        by_id="by_id",
    )
    return list(
        zip(
            chains.get_column("deal").to_list(),
            chains.get_column("from_stage").to_list(),
            chains.get_column("stage_id").to_list(),
            datetime_column(db, chains.get_column("at")),
            chains.get_column("by_id").to_list(),
            strict=True,
        )
    )


def write_rows(
    db: BaseDatabaseWrapper,
    ids: list[int] | None,
    deals: list[tuple],
    chains: list[tuple],
    known: list[tuple],
) -> None:
    """The SQL of ``bulk.DealLoad.insert_new``, on the connection ``db`` (the load's own, also
    when called by the writer thread): deals (values adapted, in ``DEAL_COLUMNS`` order),
    each one's events (position in ``deals``, from, to, at, by) and events of known deals
    (deal id, from, to, at, by), many rows per statement (``bulkload.sql.insert_many``):
    the ORM's per-object work cost five times the database's."""
    if ids is None:
        ids = reserve_ids(db, "deals_deal", len(deals))
    deal_rows = [(deal_id, *values) for deal_id, values in zip(ids, deals, strict=True)]
    event_rows = list(known) + [(ids[p], f, t, at, b) for p, f, t, at, b in chains]
    with db.cursor() as cursor:
        # Version 1; imported, no override: one literal for every row.
        insert_many(
            cursor, "deals_deal", ["id", *DEAL_COLUMNS], deal_rows, literals={"version": "1"}
        )
        # Ids are assigned in this order: a deal's events get increasing ids with time.
        insert_many(
            cursor,
            "deals_stageevent",
            ["deal_id", "from_stage_id", "to_stage_id", "at", "by_id"],
            event_rows,
            literals={
                "override_reason": "''",
                "overridden": "'[]'",
                "note": "''",
                "imported": "TRUE",
            },
        )


def events_of(steps: list[Step]) -> list[tuple[int | None, int, dt.datetime]]:
    """(from_stage_id, to_stage_id, at) of each step of a history."""
    planned, previous = [], None
    for step in steps:
        planned.append((previous, step.stage.pk, step.at))
        previous = step.stage.pk
    return planned


def deal_values(fields: dict[str, Any]) -> dict[str, Any]:
    """A plan's fields as deal column values (those a plan gives; the rules give the rest)."""
    team: Team | None = fields["team"]
    reason: LostReason | None = fields["lost_reason"]
    pipeline: Pipeline = fields["pipeline"]
    amount: Decimal | None = fields["amount"]
    return {
        "name": fields["name"],
        "external_id": fields["external_id"],
        "account_id": fields["account_id"],
        "owner_id": fields["owner"].pk,
        "owner_team": fields["owner"].team_id,
        "team_id": team.pk if team else fields["owner"].team_id,
        "pipeline_id": pipeline.pk,
        "amount": amount,
        "currency": fields["currency"],
        "expected_close_date": fields["expected_close_date"],
        "lost_reason_id": reason.pk if reason else None,
        "lost_note": fields["lost_note"],
        "source": fields["source"],
        "forecast_category": fields.get("forecast_category", ""),
        "updated_at": fields.get("updated_at"),
        "last_activity_at": fields.get("last_activity_at"),
        # A new deal's custom fields: those the plan gives a value.
        "custom": {k: v for k, v in (fields.get("custom") or {}).items() if v is not None},
    }
