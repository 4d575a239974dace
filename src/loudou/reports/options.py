"""Every report option, described once: the command line's arguments (`loudou report`),
the web form's fields and parsing (/reports/), and the API's query parameters
(/api/v1/reports/{name}) are all made from ``OPTIONS``, and all parse values with
``parse_options``: the same names, the same checks, the same messages (zh-Hans and
English). A bad value is an error everywhere, never silently dropped."""

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from loudou.analytics.catalog import CATALOG
from loudou.analytics.discipline import DISCIPLINE_SORTS
from loudou.analytics.params import BY_DEAL, GROUPINGS, PROBABILITY_SOURCES, ParamError
from loudou.spreadsheets.parsing import CellError, parse_amount

ALL = frozenset(CATALOG)
# Reports whose rows the report itself groups (``by`` does not apply to them).
UNGROUPED = frozenset({"diagnosis", "discipline", "activities"})
TARGET_REPORTS = frozenset({"plan", "forecast", "diagnosis"})
PROBABILITY_REPORTS = frozenset({"plan", "forecast", "diagnosis"})
GRAIN_REPORTS = frozenset({"forecast", "collection"})


@dataclass(frozen=True)
class Option:
    """One report option.

    ``name`` is its name in the query string and the API (``--name`` on the command line,
    with ``_`` as ``-``); ``field`` the ``ReportParams`` field it fills; ``kind`` how its
    text is read: text, date, datetime, choice, amount, int, flag."""

    name: str
    field: str
    kind: str
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    default: Any = None
    reports: frozenset[str] = ALL
    max_length: int = 200
    # The web form: its label (None: the form draws the field itself, or not at all).
    label: Any = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def applies_to(self, report: str) -> bool:
        return report in self.reports


OPTIONS: tuple[Option, ...] = (
    Option(
        "pipeline",
        "pipeline",
        "text",
        "pipeline key (default: the default pipeline)",
        max_length=50,
    ),
    Option("from", "date_from", "date", "period start, YYYY-MM-DD"),
    Option("to", "date_to", "date", "period end (exclusive), YYYY-MM-DD"),
    Option(
        "by",
        "by",
        "choice",
        "group rows by owner, team or source (collection: also deal)",
        choices=(*GROUPINGS, BY_DEAL),
        reports=ALL - UNGROUPED,
    ),
    Option(
        "owner",
        "owner",
        "text",
        "only this owner's deals (username)",
        max_length=150,
        label=_("Owner (username)"),
    ),
    Option(
        "team",
        "team",
        "text",
        "only this team's deals (team name)",
        max_length=100,
        label=_("Team"),
    ),
    Option(
        "source", "source", "text", "only deals from this source", max_length=50, label=_("Source")
    ),
    Option(
        "as_of",
        "as_of",
        "date",
        "snapshot: at the end of this date",
        reports=frozenset({"snapshot"}),
    ),
    Option(
        "grain",
        "grain",
        "choice",
        "forecast, collection: period length",
        choices=("month", "quarter"),
        default="month",
        reports=GRAIN_REPORTS,
    ),
    Option(
        "target",
        "target",
        "amount",
        "plan, forecast, diagnosis: revenue target (1200000, 1,200,000 or 120万)",
        reports=TARGET_REPORTS,
        max_length=40,
    ),
    Option(
        "simulate",
        "simulate",
        "flag",
        "forecast: add the Monte Carlo range",
        default=False,
        reports=frozenset({"forecast"}),
    ),
    Option(
        "seed",
        "seed",
        "int",
        "forecast --simulate: seed",
        default=1,
        minimum=-(2**63),
        maximum=2**63 - 1,
        reports=frozenset({"forecast"}),
        label=_("Simulation seed"),
    ),
    Option(
        "runs",
        "runs",
        "int",
        "forecast --simulate: number of runs",
        default=10_000,
        minimum=100,
        maximum=1_000_000,
        reports=frozenset({"forecast"}),
        label=_("Simulation runs"),
    ),
    Option(
        "probabilities",
        "probabilities",
        "choice",
        "forecast (default configured), plan and diagnosis (default historical)",
        choices=PROBABILITY_SOURCES,
        reports=PROBABILITY_REPORTS,
    ),
    Option(
        "window",
        "window_days",
        "int",
        "days of history behind learned rates and medians (default 365)",
        default=365,
        minimum=1,
        maximum=3660,
        label=_("History window (days)"),
    ),
    Option(
        "sort",
        "sort",
        "choice",
        "discipline: order reps by this field (numbers: largest first)",
        choices=DISCIPLINE_SORTS,
        reports=frozenset({"discipline"}),
    ),
    Option("now", "now", "datetime", "fix the clock (ISO date or date-time)"),
    Option(
        "lang",
        "lang",
        "choice",
        "language of messages and table headers (default: the request's or LOUDOU_LANGUAGE)",
        choices=("zh-hans", "en"),
    ),
)
BY_NAME = {option.name: option for option in OPTIONS}


def _error(prefix: str, option: Option, en: str, zh: str) -> ParamError:
    return ParamError(f"{prefix}{option.name}: {en}", f"{prefix}{option.name}：{zh}")


def _parse_one(option: Option, raw: str, prefix: str) -> Any:
    text = raw.strip()
    if len(text) > option.max_length or "\x00" in text:
        raise _error(
            prefix,
            option,
            f"at most {option.max_length} characters",
            f"最多 {option.max_length} 个字符",
        )
    if option.kind == "text":
        return text
    if option.kind == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise _error(
                prefix, option, "not a date (YYYY-MM-DD)", "不是日期（YYYY-MM-DD）"
            ) from exc
    if option.kind == "datetime":
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise _error(
                prefix, option, f"not an ISO date or date-time: {text!r}", "不是 ISO 日期或时间"
            ) from exc
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment
    if option.kind == "choice":
        if text not in option.choices:
            raise _error(
                prefix,
                option,
                f"one of {', '.join(option.choices)}",
                f"只能是 {'、'.join(option.choices)} 之一",
            )
        return text
    if option.kind == "amount":
        try:
            return parse_amount(text)
        except CellError as exc:
            raise ParamError(
                f"{prefix}{option.name}: {exc.en}", f"{prefix}{option.name}：{exc.zh}"
            ) from exc
    if option.kind == "int":
        try:
            number = int(text)
        except ValueError as exc:
            raise _error(prefix, option, "a whole number", "应为整数") from exc
        return number
    if option.kind == "flag":
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("", "0", "false", "no", "off"):
            return False
        raise _error(prefix, option, "true or false", "只能是 true 或 false")
    raise AssertionError(option.kind)


def parse_options(
    report: str, raw: Mapping[str, Any], *, prefix: str = "", only_applicable: bool = False
) -> dict[str, Any]:
    """``ReportParams`` keyword arguments (and ``now``) from option texts keyed by
    ``Option.name``; empty or missing ones take their defaults. ``only_applicable`` leaves
    out options that do not apply to ``report`` (the web form keeps every field's value
    in its query string while the report changes); their values are still checked."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        value = raw.get(option.name)
        if isinstance(value, bool):
            parsed: Any = value
        elif value is None or (
            isinstance(value, str) and not value.strip() and option.kind != "flag"
        ):
            parsed = option.default
        else:
            parsed = _parse_one(option, str(value), prefix)
        if only_applicable and not option.applies_to(report):
            parsed = option.default
        values[option.field] = parsed
    if values.get("by") == BY_DEAL and report != "collection":
        raise ParamError(
            "by: deal is for the collection report only", "by：deal 只适用于回款报表（collection）"
        )
    return values


def amount_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"
