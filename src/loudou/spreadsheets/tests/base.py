"""Helpers for spreadsheet tests: write fixture files, run imports."""

import tempfile
from pathlib import Path

from openpyxl import Workbook

from loudou.core.testing import LoudouTestCase
from loudou.spreadsheets.services import ImportFailed, ImportSummary, import_deals


class SheetTestCase(LoudouTestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())

    def csv(self, text: str, name: str = "deals.csv", encoding: str = "utf-8") -> Path:
        path = self.dir / name
        path.write_bytes(text.encode(encoding))
        return path

    def csv_bytes(self, data: bytes, name: str = "deals.csv") -> Path:
        path = self.dir / name
        path.write_bytes(data)
        return path

    def xlsx(self, rows: list[list[object]], name: str = "deals.xlsx") -> Path:
        workbook = Workbook()
        sheet = workbook.active
        for row in rows:
            sheet.append(row)
        path = self.dir / name
        workbook.save(path)
        return path

    def run_import(self, path: Path, **kwargs) -> ImportSummary:
        return import_deals(path=path, **kwargs)

    def failing(self, path: Path, **kwargs) -> ImportSummary:
        with self.assertRaises(ImportFailed) as ctx:
            import_deals(path=path, **kwargs)
        return ctx.exception.summary
