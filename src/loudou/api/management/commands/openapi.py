"""`loudou openapi [--check] [--output PATH]`: write the API's OpenAPI schema to
docs/openapi.json (the committed copy the tests compare with), or check it is current."""

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from loudou.api.schema import COMMITTED, live_schema, render


class Command(BaseCommand):
    help = "Write (or --check) the committed OpenAPI schema of the REST API."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--output", default=str(COMMITTED), help="default: docs/openapi.json")
        parser.add_argument("--check", action="store_true", help="only compare; fail if stale")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["output"])
        text = render(live_schema())
        if options["check"]:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                raise CommandError(f"{path} is not the API's schema: run `loudou openapi`.")
            self.stdout.write(f"{path} is current.")
            return
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {path}.")
