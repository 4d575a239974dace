"""Hostile or careless files: refused with a clear message before they can exhaust the
server, change anything, or come out garbled (issue 11)."""

import time
import zipfile
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from loudou.deals.models import Deal
from loudou.jobs.testing import run_tasks
from loudou.spreadsheets import services
from loudou.spreadsheets.reader import FileError, read_table

from .base import SheetTestCase

SHEET = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
)


def _xlsx(path, dimension: str, rows: str) -> None:
    """A minimal XLSX whose first sheet declares ``dimension`` and holds ``rows``."""
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
            'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": SHEET.format(dimension=dimension, rows=rows),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)


CORNER = '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'


class WorkbookLimitTests(SheetTestCase):
    def test_a_sheet_claiming_every_cell_is_refused_before_reading(self):
        path = self.dir / "bomb.xlsx"
        far = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
        _xlsx(path, "A1:XFD1048576", CORNER + far)
        self.assertLess(path.stat().st_size, 3000)
        started = time.monotonic()
        with self.assertRaises(FileError) as ctx:
            self.run_import(path, lang="en")
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn("too large", ctx.exception.en)
        self.assertIn("过大", ctx.exception.zh)

    def test_a_far_cell_without_a_dimension_is_refused_too(self):
        path = self.dir / "far.xlsx"
        _xlsx(path, "A1", CORNER + '<row r="900000"><c r="AAA900000"><v>1</v></c></row>')
        with self.assertRaises(FileError):
            read_table(path)

    def test_a_zip_bomb_is_refused(self):
        path = self.dir / "zipbomb.xlsx"
        filler = '<row r="2"><c r="A2"><v>1</v></c></row>' + "<!-- " + "0" * (20 << 20) + " -->"
        _xlsx(path, "A1:A2", CORNER + filler)
        with self.assertRaises(FileError) as ctx:
            read_table(path)
        self.assertIn("too large", ctx.exception.en)

    @override_settings(
        LOUDOU_IMPORT_LIMITS={"rows": 10, "columns": 256, "cells": 100, "unpacked_bytes": 1 << 30}
    )
    def test_the_limits_are_settings(self):
        path = self.dir / "rows.xlsx"
        rows = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(2, 13))
        _xlsx(path, "A1:A12", CORNER + rows)
        with self.assertRaises(FileError):
            read_table(path)

    def test_an_ordinary_workbook_is_read(self):
        path = self.xlsx([["name", "owner"], ["Good", "rep"]])
        table = read_table(path)
        self.assertEqual(table.header, ["name", "owner"])
        self.assertEqual(len(list(table.rows)), 1)


class TextFileTests(SheetTestCase):
    def test_mostly_utf8_with_a_gbk_row_is_refused_naming_it(self):
        lines = ["name,owner"] + [f"商机{i},rep" for i in range(20)]
        data = "\n".join(lines).encode("utf-8") + "\n华为云,rep\n".encode("gbk")
        with self.assertRaises(FileError) as ctx:
            self.run_import(self.csv_bytes(data))
        self.assertIn("mostly UTF-8", ctx.exception.en)
        self.assertIn("22", ctx.exception.en)  # the GBK line
        self.assertFalse(Deal.objects.exists())

    def test_a_gbk_file_is_still_read(self):
        data = "name,owner\n华为云,rep\n腾讯,rep\n".encode("gbk")
        summary = self.run_import(self.csv_bytes(data))
        self.assertEqual(summary.created, 2)
        self.assertTrue(Deal.objects.filter(name="华为云").exists())

    def test_binary_data_named_csv_is_refused(self):
        with self.assertRaises(FileError) as ctx:
            self.run_import(self.csv_bytes(b"PK\x03\x04\x00\x00" + bytes(range(256)) * 50))
        self.assertIn("not a text file", ctx.exception.en)

    def test_a_huge_cell_is_a_message(self):
        data = b"name,owner\n" + b"x" * (200 * 1024) + b",rep\n"
        for feed in (1 << 40, 0):  # read here, or by the child process for a big file
            with (
                self.subTest(feed),
                mock.patch.object(services, "FEED_BYTES", feed),
                self.assertRaises(FileError) as ctx,
            ):
                self.run_import(
                    self.csv_bytes(
                        b"external_id,name,owner,created_at\n"
                        + b"E1,a,rep,2024-01-01T00:00:00\n"
                        + b"E2,"
                        + data[11:]
                    )
                )
            self.assertIn("too long", ctx.exception.en)
        self.assertFalse(Deal.objects.exists())

    def test_absurd_amounts_and_dates_are_row_errors(self):
        summary = self.failing(
            self.csv(
                "name,owner,amount,created_at\n"
                "A,rep,1e999,2024-01-01\n"
                "B,rep,99999999999999.99,2024-01-01\n"
                "C,rep,1,0001-01-01\n"
                "D,rep,1,9999-12-31T23:59:59\n"
            ),
            lang="en",
        )
        self.assertEqual(
            [(e.row, e.column) for e in summary.errors],
            [(2, "amount"), (3, "amount"), (4, "created_at"), (5, "created_at")],
        )

    def test_the_web_preview_shows_a_file_error_not_a_server_error(self):
        from loudou.spreadsheets.models import ImportJob

        self.client.force_login(self.manager)
        data = b"name,owner\n" + b"x" * (200 * 1024) + b",rep\n"
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post("/import/", {"file": SimpleUploadedFile("big.csv", data)})
        run_tasks()
        token = ImportJob.objects.get().token
        preview = self.client.get(f"/import/{token}/", headers={"accept-language": "en"})
        self.assertEqual(preview.status_code, 200)
        self.assertContains(preview, "too long")
        self.assertNotContains(preview, "Import now")
