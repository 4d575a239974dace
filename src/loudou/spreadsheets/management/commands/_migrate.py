"""`loudou import VENDOR EXPORT`: the command-line side of a migration (thin: the work is
``spreadsheets.vendors.migrate``)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from loudou.people.models import User
from loudou.spreadsheets.reader import FileError
from loudou.spreadsheets.results import NO_ROW, ImportFailed
from loudou.spreadsheets.vendors.migrate import MigrationSummary, migrate, proposal_path
from loudou.spreadsheets.vendors.report import preview_lines, summary_line
from loudou.spreadsheets.vendors.stages import GUESSES, proposal_toml

SHOWN_ERRORS = 50


def run_migration(
    command: BaseCommand,
    options: dict[str, Any],
    actor: User | None,
    lang: str,
    progress: Callable[[int, float], None] | None,
) -> None:
    zh = lang.startswith("zh")
    export = Path(options["file"])
    try:
        summary = migrate(
            vendor=options["kind"],
            path=export,
            actor=actor,
            lang=lang,
            dry_run=options["dry_run"],
            create_owners=options["create_owners"],
            owner_map=options["owner_map"],
            stages=options["stages"],
            mirror_pipeline=options["mirror_pipeline"],
            pipeline=options["pipeline"],
            fix_dates=options["fix_dates"],
            ignore=options["ignore"],
            source_pipeline=options["source_pipeline"],
            progress=progress,
        )
    except FileError as exc:
        raise CommandError(exc.zh if zh else exc.en) from exc
    except ImportFailed as failed:
        result = failed.summary
        if isinstance(result, MigrationSummary):
            for line in preview_lines(result, zh):
                command.stdout.write(line)
            _write_proposal(command, result, export, zh)
        for item in result.errors[:SHOWN_ERRORS]:
            where = f"row {item.row}, " if item.row != NO_ROW else ""
            command.stderr.write(f"{where}{item.column} «{item.value}»: {item.message(lang)}")
        if len(result.errors) > SHOWN_ERRORS:
            command.stderr.write(f"… {len(result.errors) - SHOWN_ERRORS} more")
        raise CommandError(
            f"没有导入任何数据：{len(result.errors)} 处问题，详见 {result.errors_file}"
            if zh
            else f"Nothing was imported: {len(result.errors)} problems, all listed in "
            f"{result.errors_file}"
        ) from failed
    if progress:
        command.stdout.write("")
    for line in preview_lines(summary, zh):
        command.stdout.write(line)
    command.stdout.write(summary_line(summary, zh))


def _write_proposal(
    command: BaseCommand, summary: MigrationSummary, export: Path, zh: bool
) -> None:
    """Stages mapped by a guess: the proposal as a file to review and pass with --stages."""
    if not any(s.how in GUESSES or s.target is None for s in summary.stages):
        return
    path = proposal_path(export)
    try:
        path.write_text(proposal_toml(summary.stages), encoding="utf-8")
    except OSError:
        return
    command.stdout.write(
        f"阶段对应建议已写入 {path}：检查后用 --stages {path} 传入"
        if zh
        else f"The proposed stage mapping is in {path}: review it, then pass --stages {path}"
    )
