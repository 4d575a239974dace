"""What an import reports: row errors (in zh-Hans and English), its summary, the errors
file, and formula neutralisation for every spreadsheet the app writes."""

import contextlib
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import translation
from django.utils.functional import Promise

from loudou.analytics.output import neutralise
from loudou.core.db import bulk_write
from loudou.deals.bulk import DealLoad, Failure


@dataclass(frozen=True)
class RowError:
    """One reason a row cannot be imported (row 1: the file's header; ``NO_ROW``: the
    whole export)."""

    row: int
    column: str
    value: str
    zh: str
    en: str

    def message(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


# The row of a problem of the whole export rather than of one row (a source stage that
# maps nowhere, an owner no user matches): shown as no row.
NO_ROW = 0


def en_count(n: int, one: str, many: str = "") -> str:
    """'1 deal', '2 deals': the English of messages kept in both languages (the Chinese
    needs no plural)."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def error(row: int, column: str, value: object, zh: str, en: str) -> RowError:
    return RowError(row, column, "" if value is None else str(value), zh, en)


def translated_pair(message: Promise) -> tuple[str, str]:
    """A translatable message (the rules' and deals.bulk's) in zh-Hans and English."""
    texts = []
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            texts.append(str(message))
    return texts[0], texts[1]


def translated(row: int, column: str, value: object, message: Promise) -> RowError:
    """A row error from a translatable message (the rules' and deals.bulk's)."""
    return error(row, column, value, *translated_pair(message))


def from_failure(failure: Failure, column: str) -> RowError:
    """A ``deals.bulk`` failure as a row error, its message in both languages."""
    return translated(failure.row, column, failure.value, failure.message)


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


def finish(
    summary: ImportSummary,
    path: Path,
    lang: str | None,
    column: Callable[[str, str], str] | None = None,
) -> ImportSummary:
    """The summary of a successful import; raise ``ImportFailed`` (with the errors written
    to ``FILE.errors.csv``) if there were errors."""
    if summary.errors:
        summary.errors.sort(key=lambda e: (e.row, e.column))
        summary.errors_file = write_errors(summary.errors, Path(f"{path}.errors.csv"), lang, column)
        raise ImportFailed(summary)
    return summary


def write_errors(
    errors: list[RowError],
    path: Path,
    lang: str | None = None,
    column: Callable[[str, str], str] | None = None,
) -> Path:
    """Every error as a CSV row: row (none for the whole export), column (``column``:
    (column, lang) -> as the reader reads it), value, reason, in ``lang``."""
    lang = lang or settings.LANGUAGE_CODE
    zh = lang.startswith("zh")
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["行", "列", "值", "原因"] if zh else ["row", "column", "value", "reason"])
        for item in errors:
            writer.writerow(
                [
                    item.row if item.row != NO_ROW else "",
                    column(item.column, lang) if column is not None else item.column,
                    neutralise(item.value),
                    item.message(lang),
                ]
            )
    return path


@contextlib.contextmanager
def all_or_nothing(summary: ImportSummary) -> Iterator[None]:
    """One transaction for the whole import, rolled back on any error. (The rollback is
    decided after bulk_write has re-created its triggers.) A dry run writes nothing and
    needs no transaction: it never takes the database's write lock."""
    if summary.dry_run:
        yield
        return
    with transaction.atomic():
        with bulk_write(connection):
            yield
        if summary.errors or summary.dry_run:
            transaction.set_rollback(True)


def collect(summary: ImportSummary, load: DealLoad, headers: dict[str, str]) -> None:
    """Take a deal load's counts and failures (as row errors, under the file's headers)."""
    summary.errors += [from_failure(f, headers.get(f.field, f.field)) for f in load.failures]
    load.failures.clear()
    counts = load.counts
    summary.created += counts.created
    summary.updated += counts.updated
    summary.unchanged += counts.unchanged
    summary.events_added += counts.events_added
    load.counts = type(counts)()
