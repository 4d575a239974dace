"""Spreadsheet import of deals: ``import_deals`` (and ``import_history`` in history.py).

An import is one transaction: every row is checked, every bad row reported (row, column,
value, reason in zh-Hans and English), and if any row is bad nothing is kept. Rows become
plans (rows.py, or fast.py column-wise); ``deals.bulk`` checks each plan against the
user's scope and the rules and writes it. Stage events are append-only, so re-importing a
deal (matched by external_id, or else by name, account and creation time) may only extend
its history: its recorded events must be the start of the events the file describes.
"""

from collections.abc import Callable
from pathlib import Path

import polars as pl

from loudou.deals.bulk import DealLoad, PlannedDeal
from loudou.people.models import User

from .columns import Mapping, field_for
from .fast import FastPath, Prepared
from .feeder import Feeder
from .history import history_changes, import_history, read_history
from .lookups import STATUS_WORDS, Lookups
from .reader import read_table
from .results import (
    ImportFailed,
    ImportSummary,
    RowError,
    all_or_nothing,
    collect,
    error,
    finish,
    neutralise,
    write_errors,
)
from .rows import parse_row, text, written
from .wording import Via

__all__ = [
    "ImportFailed",
    "ImportSummary",
    "RowError",
    "import_deals",
    "import_history",
    "neutralise",
    "write_errors",
]

BATCH = 1000
FAST = True  # the vectorised path (fast.py); tests turn it off to compare both paths
FAST_BATCH = 10_000  # Polars' per-operation overhead wants bigger batches
FEED_BYTES = 4 << 20  # from this size a CSV is read in a child process (feeder.py)
BULK_ROWS = 100_000  # from this many rows (estimated), indexes are built after the load


def _file_errors(ctx: Lookups, columns: list[str | None], headers: dict[str, str]) -> None:
    """Problems of the file as a whole (row 1): no name column, unknown stage columns."""
    if "name" not in columns:
        ctx.summary.errors.append(
            error(
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
            ctx.summary.errors.append(
                error(
                    1,
                    header,
                    header,
                    "列名中的阶段不存在",
                    "this column names no stage of the pipeline",
                )
            )


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
    via: Via = "cli",
) -> ImportSummary:
    """Import deals from a CSV or XLSX file (all or nothing); see the module docstring.

    ``actor``: the importing user, whose scope bounds what may be created or changed
    (None: the command line's unrestricted import). ``history``: a file of stage changes
    (as ``export history`` writes) to rebuild each deal's events exactly, instead of from
    the entered_* dates. ``via``: the command line or the web page, whose words the
    messages use."""
    ctx = Lookups(
        actor=actor,
        create_owners=create_owners,
        mapping=Mapping.load(mapping),
        pipeline_key=pipeline,
        check=dry_run,
        via=via,
    )
    summary = ctx.summary
    summary.dry_run = dry_run
    errors = summary.errors
    table = read_table(path)
    columns = [field_for(h, ctx.mapping, custom=ctx.custom_columns) for h in table.header]
    headers = {c: h for c, h in zip(columns, table.header, strict=True) if c}
    summary.ignored_columns = [h for c, h in zip(columns, table.header, strict=True) if not c]
    _file_errors(ctx, columns, headers)
    steps = read_history(ctx, history, errors) if history else None
    if errors:
        return finish(summary, path, lang)
    # CSV (every cell is text) without a history file: the vectorised path may take rows.
    vectorised = steps is None and FAST and table.encoding is not None

    def per_row(load: DealLoad, rows: list[tuple[int, list[object]]]) -> None:
        plans: list[PlannedDeal] = []
        for number, row in rows:
            cells = {c: row[i] for i, c in enumerate(columns) if c and i < len(row)}
            changes = None
            if steps is not None:
                external = written(cells.get("external_id"))
                if external not in steps:
                    errors.append(
                        error(
                            number,
                            headers.get("external_id", "external_id"),
                            external,
                            "历史文件中没有这个商机的阶段变更",
                            "the history file has no stage changes for this deal",
                        )
                    )
                    continue
                said = text(cells.get("pipeline"))
                pipeline_obj = (ctx.pipeline(said) if said else None) or ctx.default_pipeline
                changes = history_changes(ctx, pipeline_obj, steps[external], errors)
                if changes is None:
                    continue
            plan = parse_row(ctx, number, cells, headers, errors, changes)
            if plan is not None:
                plans.append(plan)
        load.apply(plans)

    with (
        all_or_nothing(summary),
        DealLoad(actor=actor, background=vectorised, check=dry_run) as load,
    ):
        fast = FastPath(ctx, columns, STATUS_WORDS, load) if vectorised else None
        fast = fast if fast is not None and fast.usable else None

        def insert(prepared: Prepared) -> None:
            load.insert_new(prepared.deals, prepared.events)

        def flush(rows: list[tuple[int, list[object]]]) -> None:
            if fast is not None:
                prepared, rows = fast.prepare(rows)
                insert(prepared)
            per_row(load, rows)
            if progress:
                progress(summary.rows, table.done())

        def flush_frame(raw: pl.DataFrame, done: float) -> None:
            prepared, rest = fast.prepare_frame(raw)
            insert(prepared)
            per_row(load, fast.rows_of(raw, rest))
            if progress:
                progress(summary.rows, done)

        if fast is not None and Path(path).stat().st_size >= FEED_BYTES:
            # A big CSV is read in a child process while batches are inserted here.
            feeder = Feeder(path, fast.width, fast.columns, FAST_BATCH)
            try:
                for raw in feeder:
                    summary.rows += raw.height
                    flush_frame(raw, feeder.done)
                    load.defer_indexes(summary.rows / max(feeder.done, 1e-9), BULK_ROWS)
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
                    load.defer_indexes(summary.rows / max(table.done(), 1e-9), BULK_ROWS)
            flush(pending)
        if not (errors or load.failures or dry_run):
            load.finish()
        collect(summary, load, headers)
    return finish(summary, path, lang)
