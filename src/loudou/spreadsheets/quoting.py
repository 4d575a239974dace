"""Cells and formulas, both ways: what an export writes so that no spreadsheet runs a cell,
and what the import reads back from it.

``analytics.output.neutralise`` puts an apostrophe before text starting with = + - @ tab
or CR (not a plain number). An export's cells must also come back as the text written, so
``quoted`` gives one more apostrophe to text that already starts with apostrophes before
such a character ("'=x" becomes "''=x"); then ``unquoted`` takes exactly one off, and
``unquoted(quoted(text)) == text`` for every text."""

from typing import Any

import polars as pl

from loudou.analytics.output import PLAIN_NUMBER, neutralise

# Apostrophes, then a character a spreadsheet starts a formula with.
_QUOTED = r"^'+[=+\-@\t\r]"


def quoted(value: Any) -> Any:
    """``value`` as an export writes it: never a formula, and read back by ``unquoted``."""
    if isinstance(value, str) and value.startswith("'") and unquoted(value) != value:
        return "'" + value
    return neutralise(value)


def unquoted(cell: str) -> str:
    """The text ``quoted`` made ``cell`` from: one leading apostrophe off where ``quoted``
    added it; any other cell as it is."""
    if cell.startswith("'") and quoted(cell[1:]) == cell:
        return cell[1:]
    return cell


def unquoted_column(column: pl.Expr) -> pl.Expr:
    """``unquoted`` for a column of text (the import's vectorised path): apostrophes, then
    = + - @ tab or CR, and what follows the apostrophes is no plain number."""
    bare = column.str.replace(r"^'+", "")
    taken = column.str.contains(_QUOTED) & ~bare.str.contains(PLAIN_NUMBER.pattern)
    return pl.when(taken).then(column.str.slice(1)).otherwise(column)


def written_as_is(word: str) -> bool:
    """True if an export writes ``word`` unchanged (so a reader sees exactly the word)."""
    return quoted(word) == word
