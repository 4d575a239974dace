"""Every deal of a source as ``deals.bulk``'s columns (``Planner``), and their loading:
new deals column-wise, deals already in Loudou as plans; then contacts and activities."""

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl
from django.conf import settings

from loudou.accounts.models import Contact
from loudou.activities.models import Activity
from loudou.deals.bulk import EVENT_COLUMNS, NEW_COLUMNS, DealLoad, PlannedDeal, Step
from loudou.deals.models import Deal
from loudou.pipelines.models import Pipeline, StageKind

from ..lookups import Lookups
from ..parsing import CellError, parse_amount
from ..results import error
from ..wording import FIX_DATES, label
from .owners import OwnerMatch
from .source import Source
from .timeparse import UTC_US, parse_times

if TYPE_CHECKING:
    from .migrate import MigrationSummary

BATCH = 10_000


def status_of(kinds: dict[str, str]) -> pl.Expr:
    """A source deal's status (open, won, lost): its closed and won flags, else the kind of
    its stage (``kinds``: source stage label -> open, won or lost)."""
    stage_kind = pl.col("stage").replace_strict(kinds, default="open", return_dtype=pl.String)
    return (
        pl.when(pl.col("won").fill_null(False) & pl.col("closed").fill_null(True))
        .then(pl.lit("won"))
        .when(pl.col("closed").fill_null(False))
        .then(pl.lit("lost"))
        .when(stage_kind != "open")
        .then(stage_kind)
        .otherwise(pl.lit("open"))
    )


class Planner:
    """Every deal of the source as ``deals.bulk``'s new-deal columns and its history as
    event rows: creation into the first stage of its history at its creation time, each
    later stage change (repeated stages collapse into one stay), then won or lost at its
    closing time."""

    def __init__(
        self,
        ctx: Lookups,
        source: Source,
        pipeline: Pipeline,
        summary: "MigrationSummary",
        owners: dict[str, OwnerMatch],
        fix_dates: bool,
    ) -> None:
        self.ctx, self.source, self.pipeline = ctx, source, pipeline
        self.summary, self.owners, self.fix_dates = summary, owners, fix_dates
        self.zone = source.naive_tz or settings.TIME_ZONE
        self.headers = {"owner": "owner", "stage": "stage", "external_id": "external_id"}
        self.stage_ids = {s.label: s.target.pk for s in summary.stages if s.target is not None}
        self.stage_kind = {
            s.target.pk: str(s.target.kind) for s in summary.stages if s.target is not None
        }
        opens = ctx.open_order.get(pipeline.pk, [])
        self.first_open = opens[0].pk if opens else None
        outcomes = {s.kind: s.pk for s in ctx.stages[pipeline.pk].values() if not s.is_open}
        self.won_id, self.lost_id = outcomes.get(StageKind.WON), outcomes.get(StageKind.LOST)

    def _times(self, frame: pl.DataFrame, column: str, file: str, header: str) -> pl.Series:
        return parse_times(
            frame, column, self.zone, file=file, header=header, errors=self.summary.errors
        )

    def build(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        src, file = self.source, self.source.deals_file
        d = src.deals.with_columns(pos=pl.int_range(pl.len(), dtype=pl.Int64))
        d = d.with_columns(
            created=self._times(d, "created_at", file, "created_at"),
            close=self._times(d, "close_date", file, "close_date"),
            closed_t=self._times(d, "closed_at", file, "closed_at"),
            changed_t=self._times(d, "last_changed_at", file, "last_changed_at"),
        )
        status = status_of({s.label: str(s.kind) for s in self.summary.stages})
        current = pl.col("stage").replace_strict(
            self.stage_ids, default=None, return_dtype=pl.Int64
        )
        d = d.with_columns(status=status, current=current)
        d = d.with_columns(
            current_open=pl.when(
                pl.col("current").replace_strict(self.stage_kind, default="open") == "open"
            ).then(pl.col("current"))
        )
        missing = d.filter(pl.col("created").is_null() & pl.col("created_at").is_null())
        for row in missing.get_column("row").to_list():
            self.summary.errors.append(
                error(
                    row, f"{file}: created_at", "", "缺少创建时间", "the creation time is missing"
                )
            )
        h = self._history(d)
        return self._assemble(d, h)

    def _history(self, d: pl.DataFrame) -> pl.DataFrame:
        """History rows as (pos, stage_id, at, by_id, row), collapsed: a row repeating the
        stage before it (after mapping) is no stage change."""
        src = self.source
        empty = pl.DataFrame(
            schema={
                "pos": pl.Int64,
                "stage_id": pl.Int64,
                "at": UTC_US,
                "by_id": pl.Int64,
                "row": pl.Int64,
            }
        )
        if src.history is None or src.history.height == 0:
            return empty
        h = src.history.join(d.select("external_id", "pos"), on="external_id", how="left")
        orphans = h.filter(pl.col("pos").is_null()).height
        self.summary.orphans += orphans
        h = h.filter(pl.col("pos").is_not_null() & pl.col("stage").is_not_null())
        h = h.with_columns(at=self._times(h, "at", src.history_file, "at"))
        by = {k: m.user.pk for k, m in self.owners.items() if m.user is not None}
        for key, user in self.ctx.users.items():
            by.setdefault(key, user.pk)
        h = (
            h.filter(pl.col("at").is_not_null())
            .select(
                "pos",
                stage_id=pl.col("stage").replace_strict(
                    self.stage_ids, default=None, return_dtype=pl.Int64
                ),
                at="at",
                by_id=pl.col("by").replace_strict(by, default=None, return_dtype=pl.Int64),
                row="row",
            )
            .sort("pos", "at", "row")
        )
        repeat = (pl.col("pos") == pl.col("pos").shift(1)) & (
            pl.col("stage_id") == pl.col("stage_id").shift(1)
        )
        return h.filter(~repeat.fill_null(False)).cast(empty.schema)

    def _assemble(self, d: pl.DataFrame, h: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        kind = pl.col("stage_id").replace_strict(self.stage_kind, default="open")
        h = h.with_columns(kind=kind, rank=pl.int_range(pl.len()).over("pos"))
        # The creation: the first history row's stage (if open), at the creation time.
        first = h.filter(pl.col("rank") == 0).select(
            "pos", first_stage="stage_id", first_kind="kind"
        )
        d = d.join(first, on="pos", how="left")
        owner_ids = {k: m.user.pk for k, m in self.owners.items() if m.user is not None}
        actor = self.ctx.actor.pk if self.ctx.actor is not None else None
        d = d.with_columns(
            owner_id=pl.col("owner").replace_strict(
                owner_ids, default=actor, return_dtype=pl.Int64
            ),
            creation_stage=pl.coalesce(
                pl.when(pl.col("first_kind") == "open").then(pl.col("first_stage")),
                pl.col("current_open"),
                pl.lit(self.first_open, pl.Int64),
            ),
        )
        # Later history rows; a closed deal's trailing outcome rows give way to its close.
        later = h.filter(pl.col("rank") > 0)
        outcome_after = (
            (pl.col("kind") != "open")
            .cast(pl.Int8)
            .reverse()
            .cum_min()
            .reverse()
            .over("pos")
            .cast(pl.Boolean)
        )
        later = later.with_columns(trailing_outcome=outcome_after)
        later = later.join(d.select("pos", "status"), on="pos").filter(
            ~(pl.col("trailing_outcome") & (pl.col("status") != "open"))
        )
        # When the source recorded the close (its trailing outcome rows), for the time of
        # day of a close date.
        recorded_close = (
            h.with_columns(trailing_outcome=outcome_after)
            .filter(pl.col("trailing_outcome"))
            .group_by("pos")
            .agg(recorded_close=pl.col("at").min())
        )
        d = d.join(recorded_close, on="pos", how="left")
        span = h.group_by("pos").agg(first_at=pl.col("at").min())
        last_step = later.group_by("pos").agg(
            last_at=pl.col("at").max(), last_stage=pl.col("stage_id").last()
        )
        d = d.join(span, on="pos", how="left").join(last_step, on="pos", how="left")
        # The closing time: the source's closing time, else its close date (a date: on the
        # day of the last change when that falls on it).
        closing = pl.coalesce("closed_t", "close")
        latest = pl.max_horizontal("created", "last_at", "recorded_close")
        same_day = (
            pl.col("closed_t").is_null()
            & (latest >= pl.col("close"))
            & (latest < pl.col("close") + pl.duration(days=1))
        )
        d = d.with_columns(
            close_at=pl.when(pl.col("status") == "open")
            .then(None)
            .when(same_day)
            .then(latest)
            .otherwise(closing)
        )
        self._check_closes(d)
        d = self._dates(d)
        return self._frames(d, later)

    def _check_closes(self, d: pl.DataFrame) -> None:
        for row in d.filter((pl.col("status") != "open") & pl.col("close_at").is_null())[
            "row"
        ].to_list():
            self.summary.errors.append(
                error(
                    row,
                    f"{self.source.deals_file}: close_date",
                    "",
                    "已关闭的商机缺少成交日期",
                    "a closed deal needs its close date",
                )
            )

    def _dates(self, d: pl.DataFrame) -> pl.DataFrame:
        """Creation after the close or after a history step; history after the close:
        each listed with its fix (creation moved to the earliest known date; the close to
        the last stage change), applied only when ``fix_dates``."""
        earliest = pl.min_horizontal("created", "first_at", "close_at")
        early = pl.col("created") > earliest
        d = d.with_columns(created_fixed=earliest)
        late = pl.col("close_at").is_not_null() & (pl.col("close_at") < pl.col("last_at"))
        problems = d.filter(early | late).select(
            "row",
            "external_id",
            "created",
            "created_fixed",
            "close_at",
            "last_at",
            early=early,
            late=late,
        )
        file = self.source.deals_file
        if self.ctx.via == "cli":
            how = ("--fix-dates", "--fix-dates")
        else:
            zh, en = label(FIX_DATES)
            how = (f"勾选“{zh}”", f"tick “{en}”")
        for row in problems.iter_rows(named=True):
            fixed = f"{row['created_fixed']:%Y-%m-%d %H:%M}"
            last = f"{row['last_at']:%Y-%m-%d %H:%M}" if row["last_at"] else ""
            if row["early"]:
                item = error(
                    row["row"],
                    f"{file}: created_at",
                    row["created"],
                    f"创建时间晚于成交日期或阶段历史；建议改为最早的日期 {fixed}（{how[0]}）",
                    "created after its close or its stage history; proposed fix: creation at "
                    f"the earliest known date, {fixed} ({how[1]})",
                )
                self.summary.date_problems.append(item)
            if row["late"]:
                item = error(
                    row["row"],
                    f"{file}: close_date",
                    row["close_at"],
                    f"成交日期早于最后一次阶段变更；建议改为 {last}（{how[0]}）",
                    f"closed before its last stage change; proposed fix: the close at {last} "
                    f"({how[1]})",
                )
                self.summary.date_problems.append(item)
        if problems.height and not self.fix_dates:
            self.summary.errors.extend(self.summary.date_problems)
        elif problems.height:
            self.summary.dates_fixed = problems.height
            d = d.with_columns(
                created=pl.when(early).then(earliest).otherwise(pl.col("created")),
            ).with_columns(
                close_at=pl.when(late).then(pl.col("last_at")).otherwise(pl.col("close_at"))
            )
        return d

    def _frames(self, d: pl.DataFrame, later: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        d = d.filter(pl.col("created").is_not_null())
        # An open deal whose history ends elsewhere than its stage: a step into it, at its
        # last change (or the last known time).
        tail = d.filter(
            (pl.col("status") == "open")
            & pl.col("current_open").is_not_null()
            & (pl.col("current_open") != pl.coalesce("last_stage", "creation_stage"))
        ).select(
            "pos",
            seq=pl.lit(1 << 20, pl.Int64),
            stage_id="current_open",
            at=pl.max_horizontal("created", "last_at", "changed_t"),
            by_id="owner_id",
        )
        # A closed deal whose stage is open (Pipedrive, Zoho: the stage it closed from).
        before_close = d.filter(
            (pl.col("status") != "open")
            & pl.col("current_open").is_not_null()
            & (pl.col("current_open") != pl.coalesce("last_stage", "creation_stage"))
        ).select(
            "pos",
            seq=pl.lit(1 << 20, pl.Int64),
            stage_id="current_open",
            at=pl.max_horizontal("created", "last_at"),
            by_id="owner_id",
        )
        outcome = {"won": self.won_id, "lost": self.lost_id}
        events = pl.concat(
            [
                d.select(
                    "pos",
                    seq=pl.lit(0, pl.Int64),
                    stage_id="creation_stage",
                    at="created",
                    by_id="owner_id",
                ),
                later.join(d.select("pos", "created", "owner_id"), on="pos").select(
                    "pos",
                    seq=pl.col("rank").cast(pl.Int64),
                    stage_id="stage_id",
                    at=pl.max_horizontal("at", "created"),
                    by_id=pl.coalesce("by_id", "owner_id"),
                ),
                tail,
                before_close,
                d.filter(pl.col("status") != "open").select(
                    "pos",
                    seq=pl.lit(1 << 21, pl.Int64),
                    stage_id=pl.col("status").replace_strict(outcome, return_dtype=pl.Int64),
                    at="close_at",
                    by_id="owner_id",
                ),
            ],
            how="vertical_relaxed",
        ).sort("pos", "seq")
        lost = pl.col("status") == "lost"
        reasons = self._reasons(d)
        amounts = self._amounts(d)
        accounts = d.get_column("account").unique(maintain_order=True).drop_nulls().to_list()
        account_ids = dict(zip(accounts, self.ctx.account_ids(accounts), strict=True))
        teams = {u.pk: u.team_id for u in self.ctx.users.values()}
        teams.update({m.user.pk: m.user.team_id for m in self.owners.values() if m.user})
        last_activity = self._last_activity(d)
        deals = d.join(last_activity, on="pos", how="left").select(
            "pos",
            row="row",
            name=pl.coalesce("name", pl.col("external_id")),
            external_id="external_id",
            account_id=pl.col("account").replace_strict(
                account_ids, default=None, return_dtype=pl.Int64
            ),
            owner_id="owner_id",
            owner_team=pl.col("owner_id").replace_strict(
                teams, default=None, return_dtype=pl.Int64
            ),
            team_id=pl.lit(None, pl.Int64),
            pipeline_id=pl.lit(self.pipeline.pk, pl.Int64),
            amount=pl.col("pos").replace_strict(amounts, default=None, return_dtype=pl.String),
            currency=pl.col("currency")
            .fill_null(pl.lit(self.pipeline.currency))
            .str.to_uppercase()
            .str.slice(0, 3),
            expected_close_date=pl.when(pl.col("status") == "open").then(
                pl.col("close").dt.convert_time_zone(settings.TIME_ZONE).dt.date()
            ),
            lost_reason_id=pl.when(lost).then(
                pl.col("lost_reason").replace_strict(
                    reasons,
                    default=self.ctx.other_reason.pk if self.ctx.other_reason else None,
                    return_dtype=pl.Int64,
                )
            ),
            lost_note=pl.when(lost & ~pl.col("lost_reason").is_in(list(reasons)))
            .then(pl.col("lost_reason").fill_null(""))
            .otherwise(pl.lit("")),
            source=pl.col("source").fill_null(""),
            forecast_category=pl.lit(""),
            updated_at=pl.lit(None, UTC_US),
            last_activity_at="last_activity_at",
        )
        for row in d.filter(pl.col("owner_id").is_null())["row"].to_list():
            self.summary.errors.append(
                error(
                    row,
                    f"{self.source.deals_file}: owner",
                    "",
                    "负责人不能为空",
                    "a deal needs an owner",
                )
            )
        return deals, events.select("pos", "stage_id", "at", "by_id")

    def _reasons(self, d: pl.DataFrame) -> dict[str, int]:
        said = d.get_column("lost_reason").drop_nulls().unique().to_list()
        return {s: self.ctx.reasons[s.lower()].pk for s in said if s.lower() in self.ctx.reasons}

    def _amounts(self, d: pl.DataFrame) -> dict[int, str]:
        """pos -> the amount as plain text with two places; a bad one is an error."""
        out: dict[int, str] = {}
        cache: dict[str, str | None] = {}
        for pos, row, text in d.select("pos", "row", "amount").iter_rows():
            if text is None:
                continue
            if text not in cache:
                try:
                    value = parse_amount(text)
                    cache[text] = None if value is None else f"{value:.2f}"
                except CellError as exc:
                    cache[text] = None
                    self.summary.errors.append(
                        error(row, f"{self.source.deals_file}: amount", text, exc.zh, exc.en)
                    )
            if cache[text] is not None:
                out[pos] = cache[text]
        return out

    def _last_activity(self, d: pl.DataFrame) -> pl.DataFrame:
        acts = self.source.activities
        empty = pl.DataFrame(schema={"pos": pl.Int64, "last_activity_at": UTC_US})
        if acts is None or acts.height == 0:
            return empty
        acts = acts.join(d.select("external_id", "pos"), on="external_id")
        acts = acts.with_columns(
            at=self._times(acts, "at", self.source.activities_file, "activity_at")
        )
        self.activities = acts.filter(pl.col("at").is_not_null())
        return self.activities.group_by("pos").agg(last_activity_at=pl.col("at").max())


def load(
    load: DealLoad,
    deals: pl.DataFrame,
    events: pl.DataFrame,
    plan: Planner,
    summary: "MigrationSummary",
    progress: Callable[[int, float], None] | None,
) -> None:
    """New deals column-wise (``insert_new``), deals already in Loudou (matched by external
    id) as plans (``apply``): both checked by deals.bulk against the rules and the scope."""
    summary.rows = deals.height
    externals = deals.get_column("external_id").drop_nulls().to_list()
    known = load.existing_external_ids(externals) if externals else set()
    # Deals without an external id go as plans too: deals.bulk matches them by name,
    # account and creation time, so that a second run adds no duplicates.
    is_known = pl.col("external_id").is_in(sorted(known)).fill_null(True)
    new, old = deals.filter(~is_known), deals.filter(is_known)
    load.defer_indexes(float(deals.height), 100_000)
    for start in range(0, new.height, BATCH):
        part = new.slice(start, BATCH)
        renumber = part.select("pos", new_pos=pl.int_range(pl.len(), dtype=pl.Int64))
        part_events = events.join(renumber, on="pos").sort("new_pos", maintain_order=True)
        load.insert_new(
            part.drop("pos").cast({"row": pl.Int64, **NEW_COLUMNS}),
            part_events.select(pos="new_pos", stage_id="stage_id", at="at", by_id="by_id").cast(
                EVENT_COLUMNS
            ),
        )
        if progress:
            progress(start + part.height, (start + part.height) / max(deals.height, 1))
    if old.height:
        _apply_known(load, old, events, plan)


def _apply_known(load: DealLoad, old: pl.DataFrame, events: pl.DataFrame, plan: Planner) -> None:
    stages = {s.pk: s for per in plan.ctx.stages.values() for s in per.values()}
    users = {u.pk: u for u in plan.ctx.users.values()}
    steps: dict[int, list[Step]] = {}
    for pos, stage_id, at, by_id in events.filter(
        pl.col("pos").is_in(old.get_column("pos").implode())
    ).iter_rows():
        steps.setdefault(pos, []).append(Step(stages[stage_id], at, users.get(by_id)))
    reasons = {r.pk: r for r in plan.ctx.reasons.values()}
    plans = []
    for row in old.iter_rows(named=True):
        owner = users.get(row["owner_id"])
        plans.append(
            PlannedDeal(
                row["row"],
                {
                    "name": row["name"],
                    "external_id": row["external_id"],
                    "account_id": row["account_id"],
                    "owner": owner,
                    "team": None,
                    "pipeline": plan.pipeline,
                    "amount": Decimal(row["amount"]) if row["amount"] else None,
                    "currency": row["currency"],
                    "expected_close_date": row["expected_close_date"],
                    "lost_reason": reasons.get(row["lost_reason_id"]),
                    "lost_note": row["lost_note"],
                    "source": row["source"],
                    "forecast_category": "",
                    "updated_at": None,
                    "last_activity_at": row["last_activity_at"],
                },
                steps[row["pos"]],
            )
        )
    for start in range(0, len(plans), 1000):
        load.apply(plans[start : start + 1000])


def contacts(
    ctx: Lookups,
    source: Source,
    summary: "MigrationSummary",
    decision_makers: set[str] | None = None,
) -> None:
    """The source's contacts, under their accounts (a contact already there is kept);
    those whose key is among ``decision_makers`` are marked so."""
    if not source.contacts:
        return
    names = [c["account"] for c in source.contacts]
    ids = ctx.account_ids(names)
    have = {
        (a, n.lower())
        for a, n in Contact.objects.filter(account_id__in=set(ids)).values_list(
            "account_id", "name"
        )
    }
    new = []
    for contact, account_id in zip(source.contacts, ids, strict=True):
        key = (account_id, contact["name"].lower())
        if key in have:
            continue
        have.add(key)
        new.append(
            Contact(
                account_id=account_id,
                name=contact["name"][:100],
                title=contact["title"][:100],
                email=contact["email"][:254],
                phone=contact["phone"][:50],
                is_decision_maker=contact.get("key", "") in (decision_makers or set()),
            )
        )
    Contact.objects.bulk_create(new, batch_size=1000)
    summary.contacts_created = len(new)


def activities(
    source: Source, plan: Planner, owners: dict[str, OwnerMatch], summary: "MigrationSummary"
) -> None:
    """Activities on the migrated deals (by the source user when matched, else the deal's
    owner). The deals' last activity time came with their plans."""
    acts = getattr(plan, "activities", None)
    if acts is None or acts.height == 0:
        return
    deal_ids = dict(
        Deal.objects.filter(
            external_id__in=acts.get_column("external_id").unique().to_list()
        ).values_list("external_id", "id")
    )
    owner_of = dict(Deal.objects.filter(id__in=deal_ids.values()).values_list("id", "owner_id"))
    by = {k: m.user.pk for k, m in owners.items() if m.user is not None}
    existing = set(
        Activity.objects.filter(deal_id__in=deal_ids.values()).values_list("deal_id", "at", "type")
    )
    new = []
    for external, kind, at, note, who in acts.select(
        "external_id", "type", "at", "note", "by"
    ).iter_rows():
        deal_id = deal_ids.get(external)
        if deal_id is None or (deal_id, at, kind) in existing:
            continue
        new.append(
            Activity(
                deal_id=deal_id,
                type=kind,
                at=at,
                note=note or "",
                by_id=by.get(who) or owner_of[deal_id],
            )
        )
    Activity.objects.bulk_create(new, batch_size=1000)
    summary.activities_created = len(new)
