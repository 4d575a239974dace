"""Quoting cells against formulas, both ways (spreadsheets.quoting): an export's cell never
starts a formula, the importer reads back exactly the text written, and the vectorised
import path unquotes as the per-row one does."""

import itertools

import polars as pl
from django.test import SimpleTestCase

from loudou.spreadsheets.quoting import quoted, unquoted, unquoted_column, written_as_is

RISKY = ("=", "+", "-", "@", "\t", "\r")
PIECES = ["", "'", "''", "=", "+", "-", "@", "\t", "\r", "1", "5.5", "e3", "x", "价格", " "]
# Every text of up to three pieces: apostrophes before and after risky characters, plain
# numbers ("-5", "+1e3"), words.
TEXTS = sorted({"".join(p) for n in range(4) for p in itertools.product(PIECES, repeat=n)})


class QuotingTests(SimpleTestCase):
    def test_no_cell_starts_a_formula_and_every_text_reads_back(self):
        self.assertGreater(len(TEXTS), 2000)
        for text in TEXTS:
            cell = quoted(text)
            self.assertFalse(cell[:1] in RISKY and cell != text, (text, cell))
            if text[:1] in RISKY and cell == text:  # left as it is: a plain number
                self.assertRegex(text, r"^[+-]\d")
            self.assertEqual(unquoted(cell), text, (text, cell))
            self.assertEqual(written_as_is(text), cell == text)

    def test_examples(self):
        self.assertEqual(quoted("=Boss"), "'=Boss")
        self.assertEqual(quoted("'=Boss"), "''=Boss")
        self.assertEqual(quoted("'Boss"), "'Boss")
        self.assertEqual(quoted("-5"), "-5")
        self.assertEqual(quoted("'-5"), "'-5")
        self.assertEqual(quoted(12), 12)
        self.assertEqual(unquoted("'@bob"), "@bob")
        self.assertEqual(unquoted("''=x"), "'=x")
        self.assertEqual(unquoted("'-5"), "'-5")  # no export writes it: as it is
        self.assertEqual(unquoted("'abc"), "'abc")

    def test_the_column_form_is_the_same(self):
        cells = sorted({*TEXTS, *(quoted(t) for t in TEXTS)})
        frame = pl.DataFrame({"cell": cells}).with_columns(read=unquoted_column(pl.col("cell")))
        self.assertEqual(frame.get_column("read").to_list(), [unquoted(c) for c in cells])
