"""A CSV's delimiter is guessed, its quote is '"': cells an export quoted against formulas
('=E1, '=1+1, '@bob) start with an apostrophe, and the guess took the apostrophe for the
quote (a line starting "'=E1,'=" looked like a quoted cell), so the file read as garbage:
a whole row's cells in one."""

from loudou.spreadsheets.reader import read_table

from .base import SheetTestCase

HEADER = ["external_id", "name", "owner", "team", "pipeline", "stage", "source"]
ROWS = [
    ["E1", "一", "'=Boss", "'=North", "'+销售流程", "'-初步", ""],
    ["E2", "二", "'@bob", "'=North", "'+销售流程", "输单", "''=x"],
    ["'=E3", "'=1+1", "'@Acme", "'=North", "default", "'-初步", "'-展会"],
]


def line(cells: list[str], delimiter: str) -> str:
    def cell(text: str) -> str:
        if delimiter in text or '"' in text:
            return '"' + text.replace('"', '""') + '"'
        return text

    return delimiter.join(cell(c) for c in cells)


class ApostropheCellsTests(SheetTestCase):
    def test_cells_starting_with_an_apostrophe_are_read_as_written(self):
        for delimiter in (",", ";", "\t"):
            for rows in (ROWS, [*ROWS, ["E4", "三, 四", "rep", "", "", "", 'say "hi"']]):
                with self.subTest(delimiter=delimiter, rows=len(rows)):
                    text = "\n".join(line(r, delimiter) for r in [HEADER, *rows]) + "\n"
                    table = read_table(self.csv(text))
                    self.assertEqual(table.header, HEADER)
                    self.assertEqual([row for _number, row in table.rows], rows)
