"""`loudou import deals|history FILE`: bring deals and their history in from CSV/XLSX;
`loudou import salesforce|hubspot|pipedrive|zoho|chinese EXPORT`: migrate another CRM's
export (a zip, a folder or a file; see docs/migrate.md)."""

import argparse
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from loudou.people.models import User
from loudou.spreadsheets.history import import_history
from loudou.spreadsheets.reader import FileError
from loudou.spreadsheets.results import ImportFailed, ImportSummary
from loudou.spreadsheets.services import import_deals
from loudou.spreadsheets.vendors import NAMES as VENDORS

SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = "Import deals (or stage history) from a CSV or XLSX file: all rows or none."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("kind", choices=["deals", "history", *VENDORS])
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check only; change nothing")
        parser.add_argument(
            "--create-owners", action="store_true", help="create unknown owners (reps) and teams"
        )
        parser.add_argument("--mapping", type=Path, help="TOML file mapping headers and stages")
        parser.add_argument("--pipeline", help="pipeline key (default: the default pipeline)")
        parser.add_argument(
            "--history", type=Path, help="deals: rebuild events from this stage-change file"
        )
        parser.add_argument("--user", help="import as this user (owner when none is given)")
        parser.add_argument("--lang", choices=["zh-hans", "en"], help="language of messages")
        migration = parser.add_argument_group("migrating from another CRM")
        migration.add_argument("--owner-map", type=Path, help="TOML: source owner = username")
        migration.add_argument("--stages", type=Path, help="TOML: source stage = stage key")
        migration.add_argument(
            "--mirror-pipeline", metavar="NAME", help="create a pipeline with the source's stages"
        )
        migration.add_argument(
            "--source-pipeline", metavar="NAME", help="of an export of several, this pipeline"
        )
        migration.add_argument(
            "--fix-dates", action="store_true", help="apply the proposed fixes of bad dates"
        )
        migration.add_argument(
            "--ignore", action="append", default=[], metavar="COL", help="leave this column out"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        lang = options["lang"] or settings.LANGUAGE_CODE
        zh = lang.startswith("zh")
        actor = None
        if options["user"]:
            actor = User.objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"--user: no user {options['user']!r}")
        progress = self._progress if sys.stdout.isatty() else None
        if options["kind"] in VENDORS:
            from ._migrate import run_migration

            run_migration(self, options, actor, lang, progress)
            return
        try:
            if options["kind"] == "deals":
                summary = import_deals(
                    path=options["file"],
                    actor=actor,
                    lang=lang,
                    dry_run=options["dry_run"],
                    create_owners=options["create_owners"],
                    mapping=options["mapping"],
                    pipeline=options["pipeline"],
                    history=options["history"],
                    progress=progress,
                )
            else:
                summary = import_history(
                    path=options["file"],
                    actor=actor,
                    lang=lang,
                    dry_run=options["dry_run"],
                    mapping=options["mapping"],
                    pipeline=options["pipeline"],
                )
        except FileError as exc:
            raise CommandError(exc.zh if zh else exc.en) from exc
        except ValueError as exc:  # a broken mapping file
            raise CommandError(str(exc)) from exc
        except ImportFailed as failed:
            self._errors(failed.summary, lang)
            raise CommandError(
                (
                    f"没有导入任何数据：{len(failed.summary.errors)} 处错误，详见 "
                    f"{failed.summary.errors_file}"
                )
                if zh
                else (
                    f"Nothing was imported: {len(failed.summary.errors)} errors, all listed in "
                    f"{failed.summary.errors_file}"
                )
            ) from failed
        if progress:
            self.stdout.write("")
        self._summary(summary, zh)

    def _progress(self, rows: int, done: float) -> None:
        width = 30
        filled = int(done * width)
        bar = "█" * filled + "·" * (width - filled)
        self.stdout.write(f"\r[{bar}] {done:4.0%}  {rows:,} rows", ending="")
        self.stdout.flush()

    def _errors(self, summary: ImportSummary, lang: str) -> None:
        for error in summary.errors[:SHOWN_ERRORS]:
            self.stderr.write(
                f"row {error.row}, {error.column} «{error.value}»: {error.message(lang)}"
            )
        if len(summary.errors) > SHOWN_ERRORS:
            self.stderr.write(f"… {len(summary.errors) - SHOWN_ERRORS} more")

    def _summary(self, s: ImportSummary, zh: bool) -> None:
        if zh:
            head = "试运行（未做任何更改）：" if s.dry_run else "导入完成："
            self.stdout.write(
                f"{head}{s.rows} 行；新建商机 {s.created}，更新 {s.updated}，未变 {s.unchanged}；"
                f"新增阶段变更 {s.events_added}；新建客户 {s.accounts_created}、负责人 "
                f"{s.owners_created}、团队 {s.teams_created}。"
            )
            if s.ignored_columns:
                self.stdout.write("忽略的列：" + "、".join(s.ignored_columns))
        else:
            head = "Dry run (nothing changed): " if s.dry_run else "Imported: "
            self.stdout.write(
                f"{head}{s.rows} rows; {s.created} deals created, {s.updated} updated, "
                f"{s.unchanged} unchanged; {s.events_added} stage changes added; "
                f"{s.accounts_created} accounts, {s.owners_created} owners and "
                f"{s.teams_created} teams created."
            )
            if s.ignored_columns:
                self.stdout.write("Ignored columns: " + ", ".join(s.ignored_columns))
