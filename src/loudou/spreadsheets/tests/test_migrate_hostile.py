"""Broken or hostile exports: a clear one-line refusal, never a traceback, nothing written."""

import io
import zipfile
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from loudou.deals.models import Deal

from .base import SheetTestCase


class HostileExportTest(SheetTestCase):
    def refused(self, path: Path, vendor: str = "salesforce") -> str:
        with self.assertRaises(CommandError) as ctx:
            call_command(
                "import",
                vendor,
                str(path),
                "--lang",
                "en",
                stdout=io.StringIO(),
                stderr=io.StringIO(),
            )
        self.assertFalse(Deal.objects.exists())
        return str(ctx.exception)

    def folder(self, name: str, content: bytes) -> Path:
        folder = self.dir / name
        folder.mkdir()
        (folder / "Opportunity.csv").write_bytes(content)
        return folder

    def test_a_missing_export(self):
        self.assertIn("no such file or folder", self.refused(self.dir / "nothing"))

    def test_no_deals_file(self):
        (self.dir / "other").mkdir()
        (self.dir / "other" / "Lead.csv").write_text("Id\n1\n")
        self.assertIn("no deals file", self.refused(self.dir / "other", "hubspot"))

    def test_a_binary_file(self):
        message = self.refused(self.folder("binary", b"\x00\x01\x02" * 100))
        self.assertIn("not a text file", message)

    def test_an_unclosed_quote(self):
        message = self.refused(self.folder("ragged", b'Id,Name,StageName\n1,"A,Closed Won\n2,B\n'))
        self.assertIn("a quote is not closed", message)

    def test_a_broken_zip(self):
        path = self.dir / "export.zip"
        path.write_bytes(b"PK\x03\x04garbage")
        self.assertIn("the zip cannot be read", self.refused(path))

    def test_a_zip_cannot_write_outside_its_folder(self):
        path = self.dir / "evil.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("../../escaped-Opportunity.csv", "Id,Name\n1,a\n")
        self.refused(path)
        self.assertFalse((self.dir.parent / "escaped-Opportunity.csv").exists())

    @override_settings(
        LOUDOU_IMPORT_LIMITS={"rows": 2, "columns": 256, "cells": 10**6, "unpacked_bytes": 1 << 30}
    )
    def test_a_file_over_the_row_limit(self):
        rows = b"Id,Name,StageName\n" + b"".join(b"%d,a,Prospecting\n" % i for i in range(5))
        self.assertIn("too large", self.refused(self.folder("big", rows)))

    @override_settings(
        LOUDOU_IMPORT_LIMITS={"rows": 10**6, "columns": 256, "cells": 10**6, "unpacked_bytes": 100}
    )
    def test_a_zip_unpacking_to_too_much(self):
        path = self.dir / "big.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("Opportunity.csv", "Id,Name\n" + "1,a\n" * 100)
        self.assertIn("unpacks to too much", self.refused(path))
