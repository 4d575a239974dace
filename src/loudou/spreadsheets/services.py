"""Spreadsheet import and export of deals and their stage history.

An import is one transaction: every row is checked, every bad row reported (row, column,
value, reason in zh-Hans and English), and if any row is bad nothing is kept. Stage events
are append-only, so re-importing a deal (matched by external_id, or else by name, account
and creation time) may only extend its history: its recorded events must be the start of
the events the file describes.
"""

import contextlib
import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Max
from django.utils.crypto import get_random_string
from django.utils.text import slugify

from loudou.accounts.models import Account
from loudou.bulkload.indexes import DeferredIndexes
from loudou.bulkload.sql import datetime_adapter, insert_many, reserve_ids
from loudou.bulkload.writer import BackgroundWriter
from loudou.core.db import bulk_write
from loudou.deals.models import Deal, LostReason, StageEvent
from loudou.deals.services import can_own
from loudou.people.models import Role, Team, User
from loudou.pipelines.models import Pipeline, Stage, StageKind

from .columns import Mapping, field_for, normalise
from .fast import FastPath, Hashes, Prepared
from .feeder import Feeder
from .parsing import CellError, parse_amount, parse_date, parse_datetime
from .reader import FileError, read_table

BATCH = 1000
FAST = True  # the vectorised path (fast.py); tests turn it off to compare both paths
FAST_BATCH = 10_000  # Polars' per-operation overhead wants bigger batches
FEED_BYTES = 4 << 20  # from this size a CSV is read in a child process (feeder.py)
BULK_ROWS = 100_000  # from this many rows (estimated), indexes are built after the load
WON_WORDS = {"won", "closed won", "closedwon", "赢单", "签约成单", "成交"}
LOST_WORDS = {"lost", "closed lost", "closedlost", "输单", "丢单"}
STATUS_WORDS = {
    "open": "open",
    "进行中": "open",
    "跟进中": "open",
    **dict.fromkeys(WON_WORDS, "won"),
    **dict.fromkeys(LOST_WORDS, "lost"),
}


@dataclass(frozen=True)
class RowError:
    """One reason a row (or the file, row 1) cannot be imported."""

    row: int
    column: str
    value: str
    zh: str
    en: str

    def message(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    events_added: int = 0
    accounts_created: int = 0
    owners_created: int = 0
    teams_created: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    errors_file: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportFailed(Exception):
    """Nothing was imported; ``summary.errors`` says why."""

    def __init__(self, summary: ImportSummary) -> None:
        super().__init__(f"{len(summary.errors)} errors")
        self.summary = summary


@dataclass
class Change:
    """A stage change described by a file: into ``stage`` at ``at`` (by ``by``)."""

    stage: Stage
    at: dt.datetime
    by: User | None = None


@dataclass
class DealSpec:
    row: int
    values: dict[str, Any]
    changes: list[Change]


class _RowFailed(Exception):
    pass


class _Context:
    """Lookups for one import, loaded once: pipelines, stages, people, accounts."""

    def __init__(
        self, *, actor: User | None, create_owners: bool, mapping: Mapping, pipeline_key: str | None
    ) -> None:
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.actor = actor
        self.create_owners = create_owners
        self.mapping = mapping
        self.pipelines = {p.key.lower(): p for p in Pipeline.objects.all()}
        default = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
        if pipeline_key:
            default = self.pipelines.get(pipeline_key.lower())
            if default is None:
                raise FileError(f"没有销售流程“{pipeline_key}”", f"no pipeline {pipeline_key!r}")
        if default is None:
            raise FileError("尚未配置销售流程", "no pipeline is configured")
        self.default_pipeline = default
        self.stages: dict[int, dict[str, Stage]] = {}
        self.open_order: dict[int, list[Stage]] = {}
        for stage in Stage.objects.all().order_by("position"):
            names = self.stages.setdefault(stage.pipeline_id, {})
            for label in (stage.key, stage.name_zh, stage.name_en):
                names.setdefault(label.strip().lower(), stage)
            if stage.kind == StageKind.WON:
                for word in WON_WORDS:
                    names.setdefault(word, stage)
            if stage.kind == StageKind.LOST:
                for word in LOST_WORDS:
                    names.setdefault(word, stage)
            if stage.kind == StageKind.OPEN:
                self.open_order.setdefault(stage.pipeline_id, []).append(stage)
        self.users: dict[str, User] = {}
        for user in User.objects.all():
            for label in (user.username, user.email, user.display_name, user.get_full_name()):
                if label:
                    self.users.setdefault(label.strip().lower(), user)
        self.teams = {t.name.strip().lower(): t for t in Team.objects.all()}
        self.accounts = {name.lower(): pk for pk, name in Account.objects.values_list("id", "name")}
        self.reasons: dict[str, LostReason] = {}
        for reason in LostReason.objects.all():
            for label in (reason.key, reason.name_zh, reason.name_en):
                self.reasons.setdefault(label.strip().lower(), reason)
        self.other_reason = self.reasons.get("other")
        self.summary = ImportSummary()
        # A SQLite load (import_deals): deal ids counted here (one writer at a time), and
        # the hashed external ids this import created, which the fast path checks.
        self.next_deal_id: int | None = None
        self.imported = Hashes()
        self.table_was_empty = False
        # The fast path's inserts run in this thread while the next batch is prepared.
        self.writer: BackgroundWriter | None = None

    def stage(self, pipeline: Pipeline, label: str) -> Stage | None:
        text = label.strip().lower()
        mapped = self.mapping.stages.get(normalise(label))  # keys were normalised alike
        return self.stages.get(pipeline.pk, {}).get((mapped or text).lower())

    def owner(self, label: str, team: Team | None) -> User | None:
        user = self.users.get(label.strip().lower())
        if user is None and self.create_owners:
            base = slugify(label, allow_unicode=False).replace("-", "_")[:30] or "owner"
            username = base
            while User.objects.filter(username=username).exists():
                username = f"{base}_{get_random_string(4).lower()}"
            user = User(username=username, display_name=label.strip(), role=Role.REP, team=team)
            user.set_unusable_password()
            user.save()
            self.summary.owners_created += 1
            for key in (username, label.strip()):
                self.users[key.lower()] = user
        return user

    def team(self, label: str) -> Team | None:
        team = self.teams.get(label.strip().lower())
        if team is None and self.create_owners:
            team = Team.objects.create(name=label.strip())
            self.summary.teams_created += 1
            self.teams[team.name.lower()] = team
        return team

    def account_ids(self, names: list[str | None]) -> list[int | None]:
        """Ids of accounts by name (stripped), creating the missing ones in one insert."""
        missing = {}
        for name in names:
            if name and name.lower() not in self.accounts:
                missing.setdefault(name.lower(), name)
        if missing:
            created = Account.objects.bulk_create([Account(name=n) for n in missing.values()])
            for key, account in zip(missing, created, strict=True):
                self.accounts[key] = account.pk
            self.summary.accounts_created += len(created)
        return [self.accounts[name.lower()] if name else None for name in names]

    def account_id(self, name: str) -> int:
        key = name.strip().lower()
        if key not in self.accounts:
            self.accounts[key] = Account.objects.create(name=name.strip()).pk
            self.summary.accounts_created += 1
        return self.accounts[key]


def _error(row: int, column: str, value: object, zh: str, en: str) -> RowError:
    return RowError(row, column, "" if value is None else str(value), zh, en)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel gives ids and numbers as floats
    return str(value).strip()


# ---------------------------------------------------------------------------------------
# From a row to a deal specification


def _parse_row(
    ctx: _Context,
    number: int,
    cells: dict[str, Any],
    headers: dict[str, str],
    errors: list[RowError],
    history: list[Change] | None,
) -> DealSpec | None:
    """Check one row; append its errors; return its specification if it has none."""
    before = len(errors)

    def fail(column: str, zh: str, en: str) -> None:
        errors.append(_error(number, headers.get(column, column), cells.get(column), zh, en))

    def read(column: str, parser: Callable[[object], Any]) -> Any:
        try:
            return parser(cells.get(column))
        except CellError as exc:
            fail(column, exc.zh, exc.en)
            return None

    name = _text(cells.get("name"))
    if not name:
        fail("name", "商机名称不能为空", "a deal needs a name")
    pipeline = ctx.default_pipeline
    if _text(cells.get("pipeline")):
        pipeline = ctx.pipelines.get(_text(cells["pipeline"]).lower()) or ctx.pipelines.get(
            slugify(_text(cells["pipeline"]))
        )
        if pipeline is None:
            pipeline = next(
                (
                    p
                    for p in ctx.pipelines.values()
                    if _text(cells["pipeline"]).lower() in (p.name_zh.lower(), p.name_en.lower())
                ),
                None,
            )
        if pipeline is None:
            fail("pipeline", "没有这个销售流程", "no such pipeline")
            return None
    team = None
    if _text(cells.get("team")):
        team = ctx.team(_text(cells["team"]))
        if team is None:
            fail(
                "team",
                "没有这个团队（可加 --create-owners 创建）",
                "no such team (--create-owners creates it)",
            )
    owner = None
    if _text(cells.get("owner")):
        owner = ctx.owner(_text(cells["owner"]), team)
        if owner is None:
            fail(
                "owner",
                "找不到这个负责人（按用户名、邮箱或姓名匹配；可加 --create-owners 创建）",
                "unknown owner (matched by username, e-mail or name; --create-owners creates it)",
            )
    elif ctx.actor is not None:
        owner = ctx.actor
    else:
        fail("owner", "负责人不能为空", "a deal needs an owner")
    if owner is not None and ctx.actor is not None and not can_own(ctx.actor, owner):
        fail(
            "owner",
            "您不能为这位负责人导入商机（经理只能导入本团队的商机）",
            "you may not import deals for this owner (managers: their teams' only)",
        )
    amount = read("amount", parse_amount)
    created_at = read("created_at", lambda v: parse_datetime(v, ctx.tz))
    expected = read("expected_close_date", lambda v: parse_date(v, ctx.tz))
    closed_at = read("closed_at", lambda v: parse_datetime(v, ctx.tz))
    close_date = read("close_date", lambda v: parse_datetime(v, ctx.tz))
    won_time = read("won_time", lambda v: parse_datetime(v, ctx.tz))
    lost_time = read("lost_time", lambda v: parse_datetime(v, ctx.tz))
    updated_at = read("updated_at", lambda v: parse_datetime(v, ctx.tz))
    last_activity_at = read("last_activity_at", lambda v: parse_datetime(v, ctx.tz))
    category = _text(cells.get("forecast_category")).lower()
    if category and category not in ("pipeline", "best_case", "commit", "omitted"):
        fail(
            "forecast_category",
            "预测类别应为 pipeline/best_case/commit/omitted",
            "forecast category must be pipeline, best_case, commit or omitted",
        )
    status = None
    if _text(cells.get("status")):
        status = STATUS_WORDS.get(_text(cells["status"]).lower())
        if status is None:
            fail(
                "status",
                "状态应为 open/won/lost 或 进行中/赢单/输单",
                "status must be open, won or lost (进行中, 赢单, 输单)",
            )
    stage = None
    if _text(cells.get("stage")):
        stage = ctx.stage(pipeline, _text(cells["stage"]))
        if stage is None:
            fail(
                "stage",
                "没有这个阶段（可用阶段标识、中文或英文名称，或在映射文件中对应）",
                "no such stage (use a stage key or its zh/en name, or map it in a mapping file)",
            )
    entered: dict[Stage, dt.datetime] = {}
    for column in cells:
        if column.startswith("entered:") and cells[column] not in (None, ""):
            when = read(column, lambda v: parse_datetime(v, ctx.tz))
            target = ctx.stage(pipeline, column.removeprefix("entered:"))
            if when is not None and target is not None:
                entered[target] = when
    if len(errors) > before:
        return None

    # Status and closing time, from whatever the file offers.
    if status is None and stage is not None and stage.kind != StageKind.OPEN:
        status = stage.kind
    if status is None:
        status = "won" if won_time else "lost" if lost_time else "open"
    closed_at = closed_at or (won_time if status == "won" else lost_time)
    for target, when in list(entered.items()):
        if target.kind != StageKind.OPEN:  # e.g. HubSpot's "Date entered 'Closed won'"
            closed_at = closed_at or when
            del entered[target]
    if close_date is not None:
        if status == "open":
            expected = expected or close_date.astimezone(ctx.tz).date()
        else:
            closed_at = closed_at or close_date
    if status == "open" and closed_at is not None:
        fail("closed_at", "进行中的商机不应有成交日期", "an open deal has no closing time")
        return None
    if status != "open" and closed_at is None and history is None:
        fail(
            "closed_at", "赢单或输单的商机需要成交日期", "a won or lost deal needs its closing time"
        )
        return None

    if history is not None:
        changes = history
    else:
        changes = _changes_from_dates(
            ctx,
            number,
            cells,
            headers,
            errors,
            pipeline,
            stage,
            status,
            created_at,
            entered,
            closed_at,
        )
        if changes is None:
            return None
    first, last = changes[0], changes[-1]
    if history is not None:
        final = last.stage.kind if last.stage.kind != StageKind.OPEN else "open"
        if final != status and _text(cells.get("status")):
            fail(
                "status",
                "状态与阶段历史的最后一步不一致",
                "the status does not match the last step of the stage history",
            )
            return None
        status = final
    lost_reason, lost_note = None, ""
    if status == "lost":
        text = _text(cells.get("lost_reason"))
        lost_reason = ctx.reasons.get(text.lower()) if text else None
        if lost_reason is None:
            lost_reason, lost_note = ctx.other_reason, text
    account_name = _text(cells.get("account"))
    return DealSpec(
        number,
        {
            "name": name,
            "external_id": _text(cells.get("external_id")) or None,
            "account_id": ctx.account_id(account_name) if account_name else None,
            "owner": owner,
            "team": team or owner.team,
            "pipeline": pipeline,
            "amount": amount,
            "currency": (_text(cells.get("currency")) or pipeline.currency).upper()[:3],
            "expected_close_date": expected,
            "created_at": first.at,
            "status": status,
            "closed_at": last.at if status != "open" else None,
            "lost_reason": lost_reason,
            "lost_note": lost_note,
            "source": _text(cells.get("source")),
            "forecast_category": category,
            "updated_at": max(updated_at or first.at, first.at),
            "last_activity_at": last_activity_at,
        },
        changes,
    )


def _changes_from_dates(
    ctx: _Context,
    number: int,
    cells: dict[str, Any],
    headers: dict[str, str],
    errors: list[RowError],
    pipeline: Pipeline,
    stage: Stage | None,
    status: str,
    created_at: dt.datetime | None,
    entered: dict[Stage, dt.datetime],
    closed_at: dt.datetime | None,
) -> list[Change] | None:
    """METRICS.md's rebuild: creation at created_at into the earliest stage with a date (or
    ``stage``), then each entered stage in time order, then won/lost at closed_at."""
    order = ctx.open_order[pipeline.pk]
    timeline = sorted(entered.items(), key=lambda kv: (kv[1], order.index(kv[0])))
    current = stage if stage is not None and stage.kind == StageKind.OPEN else None
    created_at = created_at or (timeline[0][1] if timeline else None) or closed_at
    if created_at is None:
        created_at = dt.datetime.now(tz=dt.UTC)
    for target, when in timeline:
        if when < created_at:
            column = f"entered:{target.key}"
            errors.append(
                _error(
                    number,
                    _entered_header(headers, target),
                    when,
                    f"进入“{target.name_zh}”的时间早于创建时间",
                    f"entered {target.name_en} before the deal was created",
                )
            )
            headers.setdefault(column, column)
    if closed_at is not None and closed_at < created_at:
        errors.append(
            _error(
                number,
                headers.get("closed_at", "closed_at"),
                closed_at,
                "成交日期早于创建时间",
                "closed before the deal was created",
            )
        )
    if timeline and closed_at is not None and closed_at < timeline[-1][1]:
        errors.append(
            _error(
                number,
                headers.get("closed_at", "closed_at"),
                closed_at,
                "成交日期早于最后一次阶段变更",
                "closed before its last stage change",
            )
        )
    if errors and errors[-1].row == number:
        return None
    first_stage = timeline[0][0] if timeline else (current or order[0])
    changes = [Change(first_stage, created_at, ctx.actor)]
    for target, when in timeline[1:]:
        changes.append(Change(target, when, ctx.actor))
    if current is not None and current != changes[-1].stage:
        errors.append(
            _error(
                number,
                headers.get("stage", "stage"),
                cells.get("stage"),
                f"阶段“{current.name_zh}”与最后进入的阶段“{changes[-1].stage.name_zh}”不一致",
                f"stage {current.name_en} differs from the last stage entered, "
                f"{changes[-1].stage.name_en}",
            )
        )
        return None
    if status != "open":
        outcome = next(s for s in ctx.stages[pipeline.pk].values() if s.kind == status)
        changes.append(Change(outcome, closed_at, ctx.actor))
    return changes


def _entered_header(headers: dict[str, str], stage: Stage) -> str:
    for column, header in headers.items():
        if column.startswith("entered:") and column.removeprefix("entered:").lower() in (
            stage.key,
            stage.name_zh.lower(),
            stage.name_en.lower(),
        ):
            return header
    return f"entered_{stage.key}"


# ---------------------------------------------------------------------------------------
# Writing a batch


def _planned_events(spec: DealSpec) -> list[tuple[int | None, int, dt.datetime]]:
    planned, previous = [], None
    for change in spec.changes:
        planned.append((previous.pk if previous else None, change.stage.pk, change.at))
        previous = change.stage
    return planned


def _deal_fields(spec: DealSpec) -> dict[str, Any]:
    v = spec.values
    last = spec.changes[-1]
    return {
        "name": v["name"],
        "account_id": v["account_id"],
        "owner_id": v["owner"].pk,
        "team_id": v["team"].pk if v["team"] else None,
        "pipeline_id": v["pipeline"].pk,
        "stage_id": last.stage.pk,
        "stage_entered_at": last.at,
        "status": v["status"],
        "amount": v["amount"],
        "currency": v["currency"],
        "expected_close_date": v["expected_close_date"],
        "created_at": v["created_at"],
        "closed_at": v["closed_at"],
        "lost_reason_id": v["lost_reason"].pk if v["lost_reason"] else None,
        "lost_note": v["lost_note"],
        "source": v["source"],
        "forecast_category": v.get("forecast_category", ""),
        "updated_at": v.get("updated_at") or v["created_at"],
        "last_activity_at": v.get("last_activity_at"),
    }


def _write_batch(ctx: _Context, specs: list[DealSpec], errors: list[RowError]) -> None:
    """Write specifications in file order. A deal named twice is written in two steps,
    so that its second row finds the first in the database and extends it."""
    start, keys = 0, set()
    for i, spec in enumerate(specs):
        v = spec.values
        key = v["external_id"] or (v["name"], v["account_id"], v["created_at"])
        if key in keys:
            _write_distinct(ctx, specs[start:i], errors)
            start, keys = i, set()
        keys.add(key)
    _write_distinct(ctx, specs[start:], errors)


def _write_distinct(ctx: _Context, specs: list[DealSpec], errors: list[RowError]) -> None:
    """Create new deals, extend the history of known ones (matched by external_id, else by
    name, account and creation time among deals without one)."""
    if not specs:
        return
    summary = ctx.summary
    wanted = {s.values["external_id"] for s in specs if s.values["external_id"]}
    existing: dict[object, Deal] = {
        d.external_id: d for d in Deal.objects.filter(external_id__in=wanted)
    }
    natural = [s for s in specs if s.values["external_id"] not in existing]
    if natural:
        for deal in Deal.objects.filter(
            name__in={s.values["name"] for s in natural}, external_id__isnull=True
        ):
            existing[(deal.name, deal.account_id, deal.created_at)] = deal
    recorded: dict[int, list[tuple]] = {}
    if existing:
        for deal_id, f, t, at in (
            StageEvent.objects.filter(deal_id__in=[d.pk for d in existing.values()])
            .order_by("deal_id", "at", "id")
            .values_list("deal_id", "from_stage_id", "to_stage_id", "at")
        ):
            recorded.setdefault(deal_id, []).append((f, t, at))
    new_specs: list[DealSpec] = []
    events: list[tuple] = []  # (deal_id, from_stage_id, to_stage_id, at, by_id)
    for spec in specs:
        v = spec.values
        deal = existing.get(v["external_id"]) or existing.get(
            (v["name"], v["account_id"], v["created_at"])
        )
        if deal is None:
            new_specs.append(spec)
            continue
        planned = _planned_events(spec)
        have = recorded.get(deal.pk, [])
        if planned[: len(have)] != have:
            errors.append(
                _error(
                    spec.row,
                    "external_id",
                    v["external_id"] or v["name"],
                    "文件中的阶段历史与已记录的不一致（阶段变更只能追加，不能修改）",
                    "the stage history in the file differs from the one recorded (stage changes "
                    "can only be added, not edited)",
                )
            )
            continue
        fields = _deal_fields(spec)
        if v["external_id"] and deal.external_id is None:
            fields["external_id"] = v["external_id"]
        changed = {k: val for k, val in fields.items() if getattr(deal, k) != val}
        for (f, t, at), change in zip(planned[len(have) :], spec.changes[len(have) :], strict=True):
            events.append((deal.pk, f, t, at, change.by.pk if change.by else None))
        if changed:
            Deal.objects.filter(pk=deal.pk).update(**changed, version=deal.version + 1)
            summary.updated += 1
        else:
            summary.unchanged += 1
        summary.events_added += len(planned) - len(have)
    _insert_new(ctx, new_specs, events)
    summary.created += len(new_specs)
    summary.events_added += sum(len(s.changes) for s in new_specs)


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
)
DATETIMES = {"stage_entered_at", "created_at", "closed_at", "updated_at", "last_activity_at"}


def _insert_new(ctx: _Context, specs: list[DealSpec], events: list[tuple]) -> None:
    """Insert new deals from their specifications, and ``events`` of known deals."""
    deals, chains = [], []
    for position, spec in enumerate(specs):
        fields = _deal_fields(spec)
        fields["external_id"] = spec.values["external_id"]
        deals.append(tuple(fields[column] for column in DEAL_COLUMNS))
        previous = None
        for change in spec.changes:
            by = change.by.pk if change.by else None
            chains.append((position, previous, change.stage.pk, change.at, by))
            previous = change.stage.pk
    _insert_rows(ctx, deals, chains, events)


def _insert_rows(
    ctx: _Context,
    deals: list[tuple],
    chains: list[tuple],
    known: list[tuple] | None = None,
    adapted: bool = False,
    background: bool = False,
) -> None:
    """Insert deals (values in DEAL_COLUMNS order), the events of each (position in
    ``deals``, from, to, at, by) in order, and events of ``known`` deals (deal id, from, to,
    at, by), many rows per statement (``bulkload.sql.insert_many``): the ORM's per-object work
    cost five times the database's. Values go through Django's per-database adapters unless
    ``adapted`` says they have (bulkload.sql's column adapters). ``background``: the values are
    converted and inserted by ``ctx.writer``'s thread, in the order given."""
    ids = None  # PostgreSQL: reserved from the sequence by the thread that writes
    if ctx.next_deal_id is not None:  # SQLite load: one writer, ids counted from the start
        ids = list(range(ctx.next_deal_id, ctx.next_deal_id + len(deals)))
        ctx.next_deal_id += len(deals)
    ctx.imported.add([values[1] for values in deals if values[1] is not None])
    if background and ctx.writer is not None:
        ctx.writer.submit(lambda db: _write_rows(db, ids, deals, chains, known, adapted))
    else:
        _write_rows(connections[DEFAULT_DB_ALIAS], ids, deals, chains, known, adapted)


def _write_rows(
    db: BaseDatabaseWrapper,
    ids: list[int] | None,
    deals: list[tuple],
    chains: list[tuple],
    known: list[tuple] | None,
    adapted: bool,
) -> None:
    """The SQL part of ``_insert_rows``, on the connection ``db`` (the import's own, also
    when called by the writer thread)."""
    if ids is None:
        ids = reserve_ids(db, "deals_deal", len(deals))
    ops = db.ops
    when = (lambda value: value) if adapted else datetime_adapter(db)
    if adapted:
        deal_rows = [(deal_id, *values) for deal_id, values in zip(ids, deals, strict=True)]
    else:
        converters = [
            when
            if column in DATETIMES
            else (lambda v: ops.adapt_decimalfield_value(v, 16, 2))
            if column == "amount"
            else ops.adapt_datefield_value
            if column == "expected_close_date"
            else None
            for column in DEAL_COLUMNS
        ]
        deal_rows = [
            (deal_id, *[v if c is None else c(v) for c, v in zip(converters, values, strict=True)])
            for deal_id, values in zip(ids, deals, strict=True)
        ]
    event_rows = [(d, f, t, when(at), b) for d, f, t, at, b in known or []]
    event_rows += [(ids[p], f, t, when(at), b) for p, f, t, at, b in chains]
    with db.cursor() as cursor:
        # No custom fields and version 1; no override: the same SQL literal in every row.
        insert_many(
            cursor,
            "deals_deal",
            ["id", *DEAL_COLUMNS],
            deal_rows,
            literals={"custom": "'{}'", "version": "1"},
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


# ---------------------------------------------------------------------------------------
# The use cases


def _read_history(
    ctx: _Context, path: Path, errors: list[RowError]
) -> dict[str, list[tuple[int, str, dt.datetime, User | None]]]:
    """external_id -> [(row, stage label, changed_at, changed_by)] in file order."""
    table = read_table(path)
    columns = [field_for(h, ctx.mapping, history=True) for h in table.header]
    for needed in ("external_id", "stage", "changed_at"):
        if needed not in columns:
            errors.append(_error(1, needed, "", f"缺少“{needed}”列", f"missing column {needed}"))
    history: dict[str, list] = {}
    if errors:
        return history
    for number, row in table.rows:
        cells = {c: row[i] for i, c in enumerate(columns) if c and i < len(row)}
        external = _text(cells.get("external_id"))
        try:
            when = parse_datetime(cells.get("changed_at"), ctx.tz)
        except CellError as exc:
            errors.append(_error(number, "changed_at", cells.get("changed_at"), exc.zh, exc.en))
            continue
        if not external or when is None:
            errors.append(
                _error(
                    number,
                    "external_id" if not external else "changed_at",
                    "",
                    "不能为空",
                    "must not be empty",
                )
            )
            continue
        by = ctx.users.get(_text(cells.get("changed_by")).lower()) or ctx.actor
        history.setdefault(external, []).append((number, _text(cells.get("stage")), when, by))
    return history


def _history_changes(
    ctx: _Context,
    pipeline: Pipeline,
    steps: list[tuple[int, str, dt.datetime, User | None]],
    errors: list[RowError],
) -> list[Change] | None:
    steps = sorted(steps, key=lambda s: s[2])  # stable: file order breaks ties
    changes: list[Change] = []
    for number, label, when, by in steps:
        stage = ctx.stage(pipeline, label)
        if stage is None:
            errors.append(_error(number, "stage", label, "没有这个阶段", "no such stage"))
            return None
        if not changes and stage.kind != StageKind.OPEN:
            errors.append(
                _error(
                    number,
                    "stage",
                    label,
                    "第一步必须是进行中阶段（创建）",
                    "the first step must be an open stage (the creation)",
                )
            )
            return None
        if changes and changes[-1].stage == stage:
            continue  # a repeated row: no stage change
        if changes and changes[-1].stage.kind != StageKind.OPEN and stage.kind != StageKind.OPEN:
            errors.append(
                _error(
                    number,
                    "stage",
                    label,
                    "已关闭的商机只能重新打开到进行中阶段",
                    "a closed deal can only be reopened into an open stage",
                )
            )
            return None
        changes.append(Change(stage, when, by))
    return changes


def import_deals(
    *,
    path: Path,
    actor: User | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    create_owners: bool = False,
    mapping: Path | None = None,
    pipeline: str | None = None,
    history: Path | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> ImportSummary:
    """Import deals from a CSV or XLSX file (all or nothing); see the module docstring.

    ``history``: a file of stage changes (as ``export history`` writes) to rebuild each
    deal's events exactly, instead of from the entered_* dates."""
    ctx = _Context(
        actor=actor,
        create_owners=create_owners,
        mapping=Mapping.load(mapping),
        pipeline_key=pipeline,
    )
    summary = ctx.summary
    summary.dry_run = dry_run
    errors = summary.errors
    table = read_table(path)
    columns = [field_for(h, ctx.mapping) for h in table.header]
    headers = {c: h for c, h in zip(columns, table.header, strict=True) if c}
    summary.ignored_columns = [h for c, h in zip(columns, table.header, strict=True) if not c]
    if "name" not in columns:
        errors.append(
            _error(
                1,
                "name",
                "",
                "缺少商机名称列（name / 商机名称 / Deal Name …）",
                "no deal name column (name, 商机名称, Deal Name, …)",
            )
        )
    for column, header in headers.items():
        if (
            column.startswith("entered:")
            and ctx.stage(ctx.default_pipeline, column.removeprefix("entered:")) is None
        ):
            errors.append(
                _error(
                    1,
                    header,
                    header,
                    "列名中的阶段不存在",
                    "this column names no stage of the pipeline",
                )
            )
    steps = _read_history(ctx, history, errors) if history else None
    if errors:
        return _finish(summary, path, lang)
    fast = None
    if steps is None and FAST and table.encoding is not None:  # CSV: every cell is text
        fast = FastPath(ctx, columns, STATUS_WORDS)
        fast = fast if fast.usable else None

    def per_row(rows: list[tuple[int, list[object]]]) -> None:
        batch: list[DealSpec] = []
        for number, row in rows:
            cells = {c: row[i] for i, c in enumerate(columns) if c and i < len(row)}
            changes = None
            if steps is not None:
                external = _text(cells.get("external_id"))
                if external not in steps:
                    errors.append(
                        _error(
                            number,
                            headers.get("external_id", "external_id"),
                            external,
                            "历史文件中没有这个商机的阶段变更",
                            "the history file has no stage changes for this deal",
                        )
                    )
                    continue
                pipeline_obj = ctx.pipelines.get(
                    _text(cells.get("pipeline")).lower(), ctx.default_pipeline
                )
                changes = _history_changes(ctx, pipeline_obj, steps[external], errors)
                if changes is None:
                    continue
            spec = _parse_row(ctx, number, cells, headers, errors, changes)
            if spec is not None:
                batch.append(spec)
        _write_batch(ctx, batch, errors)

    def insert(prepared: Prepared) -> None:
        _insert_rows(ctx, prepared.deals, prepared.events, adapted=True, background=True)
        summary.created += len(prepared.deals)
        summary.events_added += len(prepared.events)

    def flush(rows: list[tuple[int, list[object]]]) -> None:
        if fast is not None:
            prepared, rows = fast.prepare(rows)
            insert(prepared)
        per_row(rows)
        if progress:
            progress(summary.rows, table.done())

    def flush_frame(raw: pl.DataFrame, done: float) -> None:
        prepared, rest = fast.prepare_frame(raw)
        insert(prepared)
        per_row(fast.rows_of(raw, rest))
        if progress:
            progress(summary.rows, done)

    # Per-row lookups need the unique external_id and the events' (deal, at) index.
    indexes = DeferredIndexes(
        connection, ["deals_deal", "deals_stageevent"], keep={"deals_event_deal_at"}
    )
    existing = Deal.objects.count()
    deferred = False

    def defer_indexes(expected: float) -> None:
        # A big load into a smaller table: its plain indexes are built at the end.
        nonlocal deferred
        if not deferred and expected >= BULK_ROWS and expected >= existing:
            indexes.drop()
            deferred = True

    with _all_or_nothing(summary), BackgroundWriter(connections[DEFAULT_DB_ALIAS]) as writer:
        # The fast path's inserts run in a second thread while the next batch is prepared.
        ctx.writer = writer if fast is not None else None
        if connection.vendor == "sqlite":
            # One writer at a time in SQLite: the ids can be counted from here on.
            ctx.next_deal_id = (Deal.objects.aggregate(m=Max("id"))["m"] or 0) + 1
            ctx.table_was_empty = existing == 0
        if fast is not None and Path(path).stat().st_size >= FEED_BYTES:
            # A big CSV is read in a child process while batches are inserted here.
            feeder = Feeder(path, fast.width, fast.columns, FAST_BATCH)
            try:
                for raw in feeder:
                    summary.rows += raw.height
                    flush_frame(raw, feeder.done)
                    defer_indexes(summary.rows / max(feeder.done, 1e-9))
            finally:
                feeder.close()
        else:
            pending: list[tuple[int, list[object]]] = []
            for item in table.rows:
                summary.rows += 1
                pending.append(item)
                if len(pending) >= (FAST_BATCH if fast is not None else BATCH):
                    flush(pending)
                    pending = []
                    defer_indexes(summary.rows / max(table.done(), 1e-9))
            flush(pending)
        ctx.writer = None
        if not (errors or dry_run):
            indexes.rebuild()
    return _finish(summary, path, lang)


def import_history(
    *,
    path: Path,
    actor: User | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    mapping: Path | None = None,
    pipeline: str | None = None,
) -> ImportSummary:
    """Append stage changes (one row each: external_id, stage, changed_at, changed_by) to
    deals that exist. A deal's recorded events must be the start of its changes in the
    file; the deal then takes the stage and status of its last change."""
    ctx = _Context(
        actor=actor, create_owners=False, mapping=Mapping.load(mapping), pipeline_key=pipeline
    )
    summary = ctx.summary
    summary.dry_run = dry_run
    errors = summary.errors
    steps = _read_history(ctx, path, errors)
    if errors:
        return _finish(summary, path, lang)
    with _all_or_nothing(summary):
        deals = {
            d.external_id: d
            for d in Deal.objects.filter(external_id__in=list(steps)).select_related(
                "pipeline", "owner", "team", "lost_reason"
            )
        }
        specs = []
        for external, rows in steps.items():
            summary.rows += len(rows)
            deal = deals.get(external)
            if deal is None:
                errors.append(
                    _error(
                        rows[0][0],
                        "external_id",
                        external,
                        "没有这个商机",
                        "no deal with this external_id",
                    )
                )
                continue
            changes = _history_changes(ctx, deal.pipeline, rows, errors)
            if changes is None:
                continue
            last = changes[-1]
            status = last.stage.kind if last.stage.kind != StageKind.OPEN else "open"
            reason = deal.lost_reason or (ctx.other_reason if status == "lost" else None)
            specs.append(
                DealSpec(
                    rows[0][0],
                    {
                        "name": deal.name,
                        "external_id": external,
                        "account_id": deal.account_id,
                        "owner": deal.owner,
                        "team": deal.team,
                        "pipeline": deal.pipeline,
                        "amount": deal.amount,
                        "currency": deal.currency,
                        "expected_close_date": deal.expected_close_date,
                        "created_at": changes[0].at,
                        "status": status,
                        "closed_at": last.at if status != "open" else None,
                        "lost_reason": reason if status == "lost" else None,
                        "lost_note": deal.lost_note if status == "lost" else "",
                        "source": deal.source,
                    },
                    changes,
                )
            )
        for start in range(0, len(specs), BATCH):
            _write_batch(ctx, specs[start : start + BATCH], errors)
    return _finish(summary, path, lang)


@contextlib.contextmanager
def _all_or_nothing(summary: ImportSummary) -> Iterator[None]:
    """One transaction for the whole import, rolled back on any error or for a dry run.
    (The rollback is decided after bulk_write has re-created its triggers.)"""
    with transaction.atomic():
        with bulk_write(connection):
            yield
        if summary.errors or summary.dry_run:
            transaction.set_rollback(True)


def _finish(summary: ImportSummary, path: Path, lang: str | None) -> ImportSummary:
    if summary.errors:
        summary.errors.sort(key=lambda e: (e.row, e.column))
        summary.errors_file = write_errors(summary.errors, Path(f"{path}.errors.csv"), lang)
        raise ImportFailed(summary)
    return summary


def write_errors(errors: list[RowError], path: Path, lang: str | None = None) -> Path:
    """Every error as a CSV row: row, column, value, reason (in the user's language)."""
    import csv

    lang = lang or settings.LANGUAGE_CODE
    zh = lang.startswith("zh")
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["行", "列", "值", "原因"] if zh else ["row", "column", "value", "reason"])
        for error in errors:
            writer.writerow([error.row, error.column, neutralise(error.value), error.message(lang)])
    return path


def neutralise(value: object) -> object:
    """Keep spreadsheet programs from running a cell as a formula (CSV/formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
