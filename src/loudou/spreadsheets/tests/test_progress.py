"""Progress: how much of the file has been read, for the terminal's progress bar."""

from loudou.spreadsheets.reader import read_table

from .base import SheetTestCase


class ProgressTests(SheetTestCase):
    def test_csv_and_xlsx_report_progress_to_the_end(self):
        rows = [["name", "owner"]] + [[f"deal {i}", "rep"] for i in range(3000)]
        csv_path = self.csv("\n".join(",".join(r) for r in rows) + "\n")
        xlsx_path = self.xlsx(rows)
        for path in (csv_path, xlsx_path):
            with self.subTest(path=path.suffix):
                table = read_table(path)
                seen = []
                for number, _row in table.rows:
                    if number % 500 == 0:
                        seen.append(table.done())
                self.assertEqual(seen, sorted(seen))
                self.assertGreater(seen[-1], 0.5)
                self.assertEqual(table.done(), 1.0)

    def test_import_calls_progress_with_rows_and_fraction(self):
        text = "name,owner,created_at\n" + "".join(
            f"deal {i},rep,2024-01-01\n" for i in range(2500)
        )
        calls = []
        self.run_import(self.csv(text), progress=lambda rows, done: calls.append((rows, done)))
        self.assertEqual(calls[-1], (2500, 1.0))
        self.assertEqual([c[0] for c in calls], [1000, 2000, 2500])
