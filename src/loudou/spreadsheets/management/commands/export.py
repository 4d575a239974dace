"""`loudou export deals|history|activities|payments --format csv|xlsx [--out FILE]
[--lang en|zh-hans]`."""

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from loudou.people.models import User
from loudou.spreadsheets.export import KINDS, rows, write_csv, write_xlsx


class Command(BaseCommand):
    help = "Export what a user may see, in the import format (CSV or XLSX)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--out", type=Path, help="file to write (CSV: default stdout)")
        parser.add_argument("--user", help="export as this user (default: everything)")
        # English by default whatever LOUDOU_LANGUAGE says: scripts read the codes.
        parser.add_argument(
            "--lang",
            choices=["en", "zh-hans"],
            default="en",
            help="deals and history: en (codes, default) or zh-hans (Chinese headers, words)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"--user: no user {options['user']!r}")
        header, data = rows(options["kind"], user, language=options["lang"])
        out = options["out"]
        if options["format"] == "xlsx":
            if out is None:
                raise CommandError("--format xlsx needs --out FILE")
            count = write_xlsx(header, data, out)
        elif out is None:
            buffer = io.StringIO()
            count = write_csv(header, data, buffer)
            self.stdout.write(buffer.getvalue(), ending="")
        else:
            with open(out, "w", encoding="utf-8-sig", newline="") as handle:
                count = write_csv(header, data, handle)
        if out is not None:
            sys.stderr.write(f"{count} rows -> {out}\n")
