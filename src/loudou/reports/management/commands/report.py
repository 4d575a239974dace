"""`loudou report NAME [options] --format table|json|csv`: the funnel reports on the console."""

import argparse
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from loudou.analytics.catalog import CATALOG as REPORTS
from loudou.analytics.output import to_csv, to_json, to_table
from loudou.analytics.params import ParamError
from loudou.people.models import User
from loudou.reports.options import OPTIONS, cli_message, parse_options
from loudou.reports.services import run_report


class Command(BaseCommand):
    help = "Print a funnel report (definitions: METRICS.md) as a table, JSON or CSV."
    # A read-only command: the system checks import every URL and view (and with them the
    # spreadsheet libraries), a third of a second of a cold report for nothing it uses.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "name",
            choices=sorted(REPORTS),
            metavar="NAME",
            help="one of: " + ", ".join(sorted(REPORTS)),
        )
        # Every report option, from the one description (reports/options.py).
        for option in OPTIONS:
            if option.kind == "flag":
                parser.add_argument(
                    option.flag, dest=option.name, action="store_true", help=option.help
                )
            else:
                # No argparse choices: the values are checked by parse_options, with
                # the same message as on the web and in the API.
                choices = f" (one of: {', '.join(option.choices)})" if option.choices else ""
                parser.add_argument(option.flag, dest=option.name, help=option.help + choices)
        parser.add_argument("--user", help="run as this user (default: everything)")
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"--user: no user {options['user']!r}")
        lang = options["lang"] or settings.LANGUAGE_CODE
        try:
            values = parse_options(options["name"], options)
            values["lang"] = lang
            result = run_report(name=options["name"], user=user, **values)
        except ParamError as exc:
            raise CommandError(cli_message(exc, lang)) from exc
        if options["format"] == "json":
            text = to_json(result)
        elif options["format"] == "csv":
            text = to_csv(result)
        else:
            text = to_table(result, lang)
        self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
        sys.stdout.flush()
