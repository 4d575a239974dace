"""The vectorised path of ``import deals``: a batch of rows checked and turned into a plan
of new deals column by column with Polars, instead of one Python call per cell; the plan
goes to ``deals.bulk.DealLoad.insert_new``, which checks it with the rules and writes it.

It takes only rows whose outcome is certain: every cell in a plain form (ISO times,
plain amounts, known owners, stages and statuses), a new external_id, and dates in a
consistent order. Everything else (other formats, errors, re-imports, rows without an
external_id) goes to the per-row path in ``services``, which gives the same result and
the precise messages. A test imports the same files both ways and compares every column.
"""

from dataclasses import dataclass
from typing import Any

import polars as pl

from loudou.deals.bulk import EVENT_COLUMNS, NEW_COLUMNS, DealLoad
from loudou.pipelines.models import Stage, StageKind
from loudou.spreadsheets.columns import DEAL_EXPORT_COLUMNS
from loudou.spreadsheets.feeder import text_frame
from loudou.spreadsheets.quoting import unquoted_column

# Shapes the per-row parser reads the same way (parsing.parse_datetime's fast path).
# Years 1900-2199 only (limits.FIRST_DATE, LAST_DATE); others get the per-row message.
_ISO_TIME = r"^(19|20|21)\d{2}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$"
_ISO_DATE = r"^(19|20|21)\d{2}-\d{2}-\d{2}$"
_PLAIN_AMOUNT = r"^\d{1,13}(\.\d{1,2})?$"  # limits.MAX_AMOUNT: 13 digits before the point
_TIMES = ("created_at", "closed_at", "updated_at", "last_activity_at")
_FREE_TEXT = ("external_id", "name", "account", "currency", "source")
# Columns this path understands (Loudou's own, as exported); a file with any other field
# uses the per-row path.
_KNOWN = set(DEAL_EXPORT_COLUMNS)


@dataclass
class Prepared:
    """A batch's rows this path takes, as ``DealLoad.insert_new`` takes them: ``deals``
    (row, then ``bulk.NEW_COLUMNS``) and ``events`` (``bulk.EVENT_COLUMNS``: pos is the
    deal's position in ``deals``, in history order)."""

    deals: pl.DataFrame
    events: pl.DataFrame

    @classmethod
    def empty(cls) -> "Prepared":
        return cls(
            pl.DataFrame(schema={"row": pl.Int64, **NEW_COLUMNS}),
            pl.DataFrame(schema=EVENT_COLUMNS),
        )


class FastPath:
    """Set up once per import; ``usable`` is False when the file's columns need the
    per-row path throughout (another pipeline, HubSpot's won/lost times, …)."""

    def __init__(
        self, ctx: Any, columns: list[str | None], status_words: dict[str, str], load: DealLoad
    ) -> None:
        self.ctx = ctx
        self.load = load
        self.status_words = status_words
        self.pipeline = ctx.default_pipeline
        self.index = {c: i for i, c in enumerate(columns) if c}
        self.width = len(columns)
        self.entered: dict[str, Stage] = {}
        self.usable = "external_id" in self.index and "created_at" in self.index
        seen: set[int] = set()
        for column in self.index:
            if column.startswith("entered:"):
                stage = ctx.stage(self.pipeline, column.removeprefix("entered:"))
                if stage is None or stage.kind != StageKind.OPEN or stage.pk in seen:
                    self.usable = False
                    continue
                seen.add(stage.pk)
                self.entered[column] = stage
            elif column not in _KNOWN:
                self.usable = False
        order = ctx.open_order.get(self.pipeline.pk, [])
        self.position = {s.pk: i for i, s in enumerate(order)}
        self.first_open = order[0] if order else None
        outcomes = ctx.stages.get(self.pipeline.pk, {}).values()
        self.outcome = {str(s.kind): s.pk for s in outcomes if s.kind != StageKind.OPEN}
        self.tz = ctx.tz
        self.other_reason = ctx.other_reason.pk if ctx.other_reason else None
        self.by = ctx.actor.pk if ctx.actor else None

    # -- lookups over a batch's distinct values ------------------------------------------

    def _owners(self, frame: pl.DataFrame) -> dict[str, tuple[int, int | None]]:
        """owner label -> (user id, team id) for owners this import may use, creating
        owners and teams (with --create-owners) in the order the file names them."""
        ctx, found = self.ctx, {}
        pairs = frame.select("owner", "team").unique(subset="owner", maintain_order=True)
        for label, team_label in pairs.iter_rows():
            if label is None:
                continue
            team = ctx.team(team_label) if team_label else None
            if team_label and team is None:
                continue
            user = ctx.owner(label, team)
            if user is None or not self.load.owner_allowed(user):
                continue
            found[label] = (user.pk, user.team_id)
        return found

    def _lookup(self, frame: pl.DataFrame, column: str, resolve: Any) -> dict[str, Any]:
        result = {}
        for label in frame.get_column(column).unique().to_list():
            if label is not None:
                value = resolve(label)
                if value is not None:
                    result[label] = value
        return result

    def _times(self, text: pl.Expr) -> pl.Expr:
        """ISO date-times (naive ones in the organisation's zone) as UTC; null otherwise."""
        iso = text.str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T").str.replace(r"Z$", "+00:00")
        aware = iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_zone="UTC")
        naive = (
            iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False)
            .dt.replace_time_zone(self.tz.key, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
        )
        shaped = text.str.contains(_ISO_TIME)
        return pl.when(shaped).then(pl.coalesce(aware, naive))

    # -- a batch ---------------------------------------------------------------------------

    @property
    def columns(self) -> dict[str, int | None]:
        """The file's column index of each field this path reads (None: not in the file)."""
        wanted = [c for c in DEAL_EXPORT_COLUMNS if c not in ("external_id", *_TIMES)]
        return {c: self.index.get(c) for c in ["external_id", *wanted, *_TIMES, *self.entered]}

    def prepare(
        self, rows: list[tuple[int, list[object]]]
    ) -> tuple[Prepared, list[tuple[int, list[object]]]]:
        """The rows this path takes, ready to insert, and the rest for the per-row path."""
        if not rows:
            return Prepared.empty(), rows
        prepared, rest = self.prepare_frame(text_frame(rows, self.width, self.columns))
        return prepared, [rows[i] for i in rest]

    def rows_of(self, raw: pl.DataFrame, positions: list[int]) -> list[tuple[int, list[object]]]:
        """The file's rows at these positions of a text frame, for the per-row path."""
        picked = raw[positions]
        numbers = picked.get_column("number").to_list()
        rows: list[list[object]] = [[None] * self.width for _ in positions]
        for column, i in self.columns.items():
            if i is not None:
                for row, value in zip(rows, picked.get_column(column).to_list(), strict=True):
                    row[i] = value
        return list(zip(numbers, rows, strict=True))

    def prepare_frame(self, raw: pl.DataFrame) -> tuple[Prepared, list[int]]:
        """Like ``prepare``, from a ``text_frame``; the rest as positions in it."""
        ctx = self.ctx
        text = [c for c in raw.columns if c not in ("idx", "number")]
        frame = raw.with_columns([pl.col(c).str.strip_chars().replace("", None) for c in text])
        # Free text as written before an export quoted it against formulas, as the per-row
        # path reads it; names of people, stages, ... go through the lookups, which do.
        frame = frame.with_columns(
            [unquoted_column(pl.col(c)) for c in _FREE_TEXT if c in frame.columns]
        )
        owners = self._owners(frame)
        teams = self._lookup(frame, "team", ctx.known_team)
        stages = self._lookup(frame, "stage", lambda label: ctx.stage(self.pipeline, label))
        reasons = self._lookup(frame, "lost_reason", ctx.reason)
        # Pipeline cells naming this path's pipeline (its key or name, in either language).
        pipelines = self._lookup(frame, "pipeline", ctx.pipeline)
        ours = [label for label, p in pipelines.items() if p.pk == self.pipeline.pk]
        existing = self.load.existing_external_ids(
            frame.get_column("external_id").drop_nulls().to_list()
        )
        stage_id = {k: s.pk for k, s in stages.items()}
        stage_kind = {k: str(s.kind) for k, s in stages.items()}
        frame = frame.with_columns(
            owner_id=pl.col("owner").replace_strict(
                {k: v[0] for k, v in owners.items()}, default=None, return_dtype=pl.Int64
            ),
            owner_team=pl.col("owner").replace_strict(
                {k: v[1] for k, v in owners.items()}, default=None, return_dtype=pl.Int64
            ),
            team_id=pl.col("team").replace_strict(
                {k: t.pk for k, t in teams.items()}, default=None, return_dtype=pl.Int64
            ),
            stage_id=pl.col("stage").replace_strict(stage_id, default=None, return_dtype=pl.Int64),
            stage_kind=pl.col("stage").replace_strict(
                stage_kind, default=None, return_dtype=pl.String
            ),
            status_word=pl.col("status")
            .str.to_lowercase()
            .replace_strict(self.status_words, default=None, return_dtype=pl.String),
            reason_id=pl.col("lost_reason").replace_strict(
                {k: r.pk for k, r in reasons.items()}, default=None, return_dtype=pl.Int64
            ),
            # A lost reason no reason has is the note, as written before an export quoted it.
            note=unquoted_column(pl.col("lost_reason")),
            category=pl.col("forecast_category")
            .str.to_lowercase()
            .replace_strict(ctx.forecast_words, default=None, return_dtype=pl.String),
            expected=pl.when(pl.col("expected_close_date").str.contains(_ISO_DATE)).then(
                pl.col("expected_close_date").str.to_date("%Y-%m-%d", strict=False)
            ),
            **{f"{c}_t": self._times(pl.col(c)) for c in (*_TIMES, *self.entered)},
        )
        status = (
            pl.coalesce(
                "status_word",
                pl.when(pl.col("stage_kind") != StageKind.OPEN).then("stage_kind"),
            )
            .fill_null(pl.lit("open"))
            .alias("final_status")
        )
        frame = frame.with_columns(status)
        duplicated = pl.col("external_id").is_duplicated()
        fine = (
            pl.col("external_id").is_not_null()
            & ~pl.col("external_id").is_in(list(existing))
            & ~duplicated
            & pl.col("name").is_not_null()
            & (pl.col("pipeline").is_null() | pl.col("pipeline").is_in(ours))
            & pl.col("owner_id").is_not_null()
            & (pl.col("team").is_null() | pl.col("team_id").is_not_null())
            # A deal goes in its owner's team (an admin may file it elsewhere): the rest
            # is refused, with its message, by the per-row path.
            & (
                pl.lit(self.load.scope.everything)
                | pl.col("team").is_null()
                | (pl.col("team_id") == pl.col("owner_team"))
            )
            & (pl.col("stage").is_null() | pl.col("stage_id").is_not_null())
            & (pl.col("status").is_null() | pl.col("status_word").is_not_null())
            & (pl.col("amount").is_null() | pl.col("amount").str.contains(_PLAIN_AMOUNT))
            & (pl.col("expected_close_date").is_null() | pl.col("expected").is_not_null())
            & (pl.col("forecast_category").is_null() | pl.col("category").is_not_null())
            & pl.col("created_at_t").is_not_null()
            & pl.all_horizontal(
                [pl.col(c).is_null() | pl.col(f"{c}_t").is_not_null() for c in _TIMES]
            )
            & pl.all_horizontal(
                pl.lit(True),
                *[pl.col(c).is_null() | pl.col(f"{c}_t").is_not_null() for c in self.entered],
            )
            # The status and closing time agree, and nothing happens before creation.
            & ((pl.col("final_status") == "open") == pl.col("closed_at_t").is_null())
            & (pl.col("closed_at_t").is_null() | (pl.col("closed_at_t") >= pl.col("created_at_t")))
        )
        frame = frame.filter(fine)
        timeline = self._timeline(frame)
        frame = frame.join(
            timeline.group_by("idx").agg(
                first_stage=pl.col("stage").first(),
                last_stage=pl.col("stage").last(),
                earliest=pl.col("at").min(),
                latest=pl.col("at").max(),
            ),
            on="idx",
            how="left",
        )
        current_open = pl.when(pl.col("stage_kind") == StageKind.OPEN).then("stage_id")
        consistent = (
            (pl.col("earliest").is_null() | (pl.col("earliest") >= pl.col("created_at_t")))
            & (
                pl.col("closed_at_t").is_null()
                | pl.col("latest").is_null()
                | (pl.col("closed_at_t") >= pl.col("latest"))
            )
            & (
                current_open.is_null()
                | pl.col("last_stage").is_null()
                | (current_open == pl.col("last_stage"))
            )
        )
        frame = frame.filter(consistent).with_columns(
            first_stage=pl.coalesce("first_stage", current_open, pl.lit(self.first_open.pk))
        )
        taken = set(frame.get_column("idx").to_list())
        rest = [i for i in range(raw.height) if i not in taken]
        return self._rows(frame, timeline.filter(pl.col("idx").is_in(list(taken)))), rest

    def _timeline(self, frame: pl.DataFrame) -> pl.DataFrame:
        """(idx, stage, at, rank) of each row's entered_* dates in time order (ties by
        stage order), as the per-row path sorts them."""
        parts = [
            frame.select("idx", at=pl.col(f"{column}_t"))
            .filter(pl.col("at").is_not_null())
            .with_columns(stage=pl.lit(stage.pk, pl.Int64), pos=pl.lit(self.position[stage.pk]))
            for column, stage in self.entered.items()
        ]
        empty = pl.DataFrame(
            schema={"idx": pl.Int64, "at": pl.Datetime("us", "UTC"), "stage": pl.Int64}
        )
        if not parts:
            return empty.with_columns(rank=pl.lit(0, pl.UInt32))
        return (
            pl.concat(parts)
            .sort("idx", "at", "pos")
            .select("idx", "at", "stage", rank=pl.int_range(pl.len()).over("idx").cast(pl.UInt32))
        )

    def _rows(self, frame: pl.DataFrame, timeline: pl.DataFrame) -> Prepared:
        """The plan of the rows taken: each deal's fields, and its history: creation into
        the first stage at created_at, the later entered stages, then won or lost at
        closed_at. What the deal becomes (stage, status, times) is the rules' to say."""
        events = pl.concat(
            [
                frame.select(
                    "idx", seq=pl.lit(0, pl.UInt32), stage="first_stage", at="created_at_t"
                ),
                timeline.filter(pl.col("rank") > 0).select(
                    "idx", seq="rank", stage="stage", at="at"
                ),
                frame.filter(pl.col("final_status") != "open").select(
                    "idx",
                    seq=pl.lit(1 << 20, pl.UInt32),
                    stage=pl.col("final_status").replace_strict(
                        self.outcome, return_dtype=pl.Int64
                    ),
                    at="closed_at_t",
                ),
            ]
        )
        frame = frame.sort("idx").with_columns(pos=pl.int_range(pl.len()))
        events = (
            events.join(frame.select("idx", "pos"), on="idx")
            .sort("pos", "seq")
            .select("pos", stage_id="stage", at="at", by_id=pl.lit(self.by, dtype=pl.Int64))
        )
        lost = pl.col("final_status") == "lost"
        # Plain amounts ("12", "12.5") with two places, the text Decimal.quantize gives.
        amount = (
            pl.when(pl.col("amount").str.contains(r"\."))
            .then(pl.col("amount").str.pad_end(pl.col("amount").str.find(r"\.") + 3, "0"))
            .otherwise(pl.col("amount") + ".00")
            .str.replace(r"^0+(\d)", "${1}")
        )
        # The first spelling of an account in the file names it, as in the per-row path.
        accounts = frame.get_column("account").unique(maintain_order=True).drop_nulls().to_list()
        account_ids = dict(zip(accounts, self.ctx.account_ids(accounts), strict=True))
        deals = frame.select(
            row="number",
            name="name",
            external_id="external_id",
            account_id=pl.col("account").replace_strict(
                account_ids, default=None, return_dtype=pl.Int64
            ),
            owner_id="owner_id",
            owner_team="owner_team",
            team_id=pl.coalesce("team_id", "owner_team"),
            pipeline_id=pl.lit(self.pipeline.pk, dtype=pl.Int64),
            amount=amount,
            currency=pl.col("currency")
            .fill_null(pl.lit(self.pipeline.currency))
            .str.to_uppercase()
            .str.slice(0, 3),
            expected_close_date="expected",
            lost_reason_id=pl.when(lost).then(
                pl.coalesce("reason_id", pl.lit(self.other_reason, dtype=pl.Int64))
            ),
            lost_note=pl.when(lost & pl.col("reason_id").is_null())
            .then(pl.col("note").fill_null(""))
            .otherwise(pl.lit("")),
            source=pl.col("source").fill_null(""),
            forecast_category=pl.col("category").fill_null(""),
            updated_at="updated_at_t",
            last_activity_at="last_activity_at_t",
        )
        return Prepared(deals.cast({"row": pl.Int64, **NEW_COLUMNS}), events)
