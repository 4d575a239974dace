"""`loudou report NAME [options] --format table|json|csv`: the funnel reports on the console."""

import argparse
import datetime as dt
import sys
import zoneinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from loudou.analytics.catalog import CATALOG as REPORTS
from loudou.analytics.output import to_csv, to_json, to_table
from loudou.analytics.params import BY_DEAL, GROUPINGS, ParamError
from loudou.people.models import User
from loudou.reports.services import run_report
from loudou.spreadsheets.parsing import CellError
from loudou.spreadsheets.parsing import parse_amount as parse_cell_amount


def parse_date(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--{option}: not a date (YYYY-MM-DD): {value!r}") from exc


def parse_now(value: str | None) -> dt.datetime | None:
    """An ISO date-time (a time zone is optional: the organisation's by default), or a
    date meaning the start of that day in the organisation's time zone."""
    if value is None:
        return None
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--now: not an ISO date or date-time: {value!r}") from exc
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def parse_amount(value: str | None) -> Decimal | None:
    """1200000, 1,200,000, ¥1,200,000 or 120万."""
    if value is None:
        return None
    try:
        amount = parse_cell_amount(value)
    except CellError as exc:
        raise CommandError(f"--target: {exc.en}") from exc
    return amount


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
        parser.add_argument("--pipeline", help="pipeline key (default: the default pipeline)")
        parser.add_argument("--from", dest="date_from", help="period start, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="period end (exclusive), YYYY-MM-DD")
        parser.add_argument(
            "--by",
            choices=[*GROUPINGS, BY_DEAL],
            help="group rows by owner, team or source (collection: also deal)",
        )
        parser.add_argument("--owner", help="only this owner's deals (username)")
        parser.add_argument("--team", help="only this team's deals (team name)")
        parser.add_argument("--source", help="only deals from this source")
        parser.add_argument("--as-of", dest="as_of", help="snapshot: at the end of this date")
        parser.add_argument(
            "--grain", choices=["month", "quarter"], default="month", help="forecast: period length"
        )
        parser.add_argument("--target", help="plan, forecast, diagnosis: revenue target (amount)")
        parser.add_argument(
            "--simulate", action="store_true", help="forecast: add the Monte Carlo range"
        )
        parser.add_argument("--seed", type=int, default=1, help="forecast --simulate: seed")
        parser.add_argument(
            "--runs", type=int, default=10_000, help="forecast --simulate: number of runs"
        )
        parser.add_argument(
            "--probabilities",
            choices=["configured", "historical"],
            help="forecast (default configured), plan and diagnosis (default historical)",
        )
        parser.add_argument(
            "--window",
            dest="window_days",
            type=int,
            default=365,
            help="days of history behind learned rates and medians (default 365)",
        )
        parser.add_argument(
            "--sort", help="discipline: order reps by this field (numbers: largest first)"
        )
        parser.add_argument("--now", help="fix the clock (ISO date or date-time)")
        parser.add_argument("--user", help="run as this user (default: everything)")
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
        parser.add_argument(
            "--lang", choices=["zh-hans", "en"], help="table headers (default: LOUDOU_LANGUAGE)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"--user: no user {options['user']!r}")
        lang = options["lang"] or settings.LANGUAGE_CODE
        try:
            result = run_report(
                name=options["name"],
                user=user,
                now=parse_now(options["now"]),
                pipeline=options["pipeline"],
                date_from=parse_date("from", options["date_from"]),
                date_to=parse_date("to", options["date_to"]),
                by=options["by"],
                owner=options["owner"],
                team=options["team"],
                source=options["source"],
                as_of=parse_date("as-of", options["as_of"]),
                grain=options["grain"],
                lang=lang,
                target=parse_amount(options["target"]),
                simulate=options["simulate"],
                seed=options["seed"],
                runs=options["runs"],
                probabilities=options["probabilities"],
                window_days=options["window_days"],
                sort=options["sort"],
            )
        except ParamError as exc:
            raise CommandError(exc.message(lang)) from exc
        if options["format"] == "json":
            text = to_json(result)
        elif options["format"] == "csv":
            text = to_csv(result)
        else:
            text = to_table(result, lang)
        self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
        sys.stdout.flush()
