"""Stage-change files (one row per change: external_id, stage, changed_at, changed_by, as
``export history`` writes them): read them, and append them to deals that exist."""

import datetime as dt
from pathlib import Path

from loudou.deals import rules
from loudou.deals.bulk import DealLoad, PlannedDeal, Step
from loudou.deals.models import Deal
from loudou.people.access import Scope
from loudou.people.models import User
from loudou.pipelines.models import Pipeline, StageKind

from .columns import Mapping, field_for
from .lookups import Lookups
from .parsing import CellError, parse_datetime
from .reader import read_table
from .results import (
    ImportSummary,
    RowError,
    all_or_nothing,
    collect,
    error,
    finish,
    translated,
)
from .rows import text, written

BATCH = 1000
History = dict[str, list[tuple[int, str, dt.datetime, User | None]]]


def read_history(ctx: Lookups, path: Path, errors: list[RowError]) -> History:
    """external_id -> [(row, stage label, changed_at, changed_by)] in file order."""
    table = read_table(path)
    columns = [field_for(h, ctx.mapping, history=True) for h in table.header]
    for needed in ("external_id", "stage", "changed_at"):
        if needed not in columns:
            errors.append(error(1, needed, "", f"缺少“{needed}”列", f"missing column {needed}"))
    history: History = {}
    if errors:
        return history
    for number, row in table.rows:
        cells = {c: row[i] for i, c in enumerate(columns) if c and i < len(row)}
        external = written(cells.get("external_id"))
        try:
            when = parse_datetime(cells.get("changed_at"), ctx.tz)
        except CellError as exc:
            errors.append(error(number, "changed_at", cells.get("changed_at"), exc.zh, exc.en))
            continue
        if not external or when is None:
            errors.append(
                error(
                    number,
                    "external_id" if not external else "changed_at",
                    "",
                    "不能为空",
                    "must not be empty",
                )
            )
            continue
        by = ctx.user(text(cells.get("changed_by"))) or ctx.actor
        history.setdefault(external, []).append((number, text(cells.get("stage")), when, by))
    return history


def history_changes(
    ctx: Lookups,
    pipeline: Pipeline,
    steps: list[tuple[int, str, dt.datetime, User | None]],
    errors: list[RowError],
) -> list[Step] | None:
    """A deal's rows as its history, in time order (a repeated row is no change); None,
    with the errors, when a stage is unknown or the history is not a legal one."""
    steps = sorted(steps, key=lambda s: s[2])  # stable: file order breaks ties
    changes: list[Step] = []
    for number, label, when, by in steps:
        stage = ctx.stage(pipeline, label)
        if stage is None:
            errors.append(error(number, "stage", label, "没有这个阶段", "no such stage"))
            return None
        if changes and changes[-1].stage == stage:
            continue  # a repeated row: no stage change
        changes.append(Step(stage, when, by))
        problem = rules.chain_problem([str(c.stage.kind) for c in changes], [c.at for c in changes])
        if problem is not None:
            errors.append(translated(number, "stage", label, problem))
            return None
    return changes


def import_history(
    *,
    path: Path,
    actor: User | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    mapping: Path | None = None,
    pipeline: str | None = None,
) -> ImportSummary:
    """Append stage changes to deals that exist and that ``actor`` may change (a deal
    outside their scope is "no deal with this external_id", as one that does not exist).
    A deal's recorded events must be the start of its changes in the file; the deal then
    takes the stage and status of its last change (``deals.bulk``)."""
    ctx = Lookups(
        actor=actor,
        create_owners=False,
        mapping=Mapping.load(mapping),
        pipeline_key=pipeline,
        check=dry_run,
    )
    summary = ctx.summary
    summary.dry_run = dry_run
    errors = summary.errors
    steps = read_history(ctx, path, errors)
    if errors:
        return finish(summary, path, lang)
    scope = Scope.of(actor) if actor is not None else Scope.unrestricted()
    with all_or_nothing(summary), DealLoad(actor=actor, check=dry_run) as load:
        deals = {
            d.external_id: d
            for d in scope.filter(Deal.objects.filter(external_id__in=list(steps))).select_related(
                "pipeline", "owner", "team", "lost_reason"
            )
        }
        plans = []
        for external, rows in steps.items():
            summary.rows += len(rows)
            deal = deals.get(external)
            if deal is None:
                errors.append(
                    error(
                        rows[0][0],
                        "external_id",
                        external,
                        "没有这个商机",
                        "no deal with this external_id",
                    )
                )
                continue
            changes = history_changes(ctx, deal.pipeline, rows, errors)
            if changes is None:
                continue
            lost = changes[-1].stage.kind == StageKind.LOST
            plans.append(
                PlannedDeal(
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
                        "lost_reason": (deal.lost_reason or ctx.other_reason) if lost else None,
                        "lost_note": deal.lost_note if lost else "",
                        "source": deal.source,
                        "forecast_category": deal.forecast_category,
                        "updated_at": deal.updated_at,
                        "last_activity_at": deal.last_activity_at,
                    },
                    changes,
                )
            )
        for start in range(0, len(plans), BATCH):
            load.apply(plans[start : start + BATCH])
        collect(summary, load, {})
    return finish(summary, path, lang)
