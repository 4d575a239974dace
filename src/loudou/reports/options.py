"""Every report option, described once: the command line's arguments (`loudou report`),
the web form's fields and parsing (/reports/), and the API's query parameters
(/api/v1/reports/{name}) are all made from ``OPTIONS``, and all parse values with
``parse_options``: the same names, the same checks, the same messages (zh-Hans and
English). A bad value is an error everywhere, never silently dropped."""

import datetime as dt
import zoneinfo
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from loudou.analytics.catalog import CATALOG
from loudou.analytics.discipline import DISCIPLINE_SORTS
from loudou.analytics.params import BY_DEAL, GROUPINGS, PROBABILITY_SOURCES, ParamError
from loudou.people.access import Scope
from loudou.people.models import Team, User
from loudou.pipelines.models import Pipeline
from loudou.spreadsheets.parsing import CellError, parse_amount

from .services import known_sources

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
    text is read: text, date, datetime, choice, amount, int, flag. ``label`` names it on
    the web (the form's field, and its messages); ``choice_labels`` are the words of its
    choices there. A ``picker`` option is a list of what the data holds and the user may
    see (owner, team, source, pipeline): the web offers those, the command line and the
    API take the same values as text."""

    name: str
    field: str
    kind: str
    help: str
    label: Any
    choices: tuple[str, ...] = ()
    choice_labels: tuple[Any, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    default: Any = None
    reports: frozenset[str] = ALL
    max_length: int = 200
    picker: str | None = None
    # The web select's entry for "no value" (None: the select has none).
    empty: Any = None
    placeholder: str = ""
    # False: not a field of the web form (the clock, the language: the request's).
    web: bool = True

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def applies_to(self, report: str) -> bool:
        return report in self.reports

    def choices_for(self, report: str | None) -> tuple[str, ...]:
        """The choices that make sense for ``report`` (None: all of them)."""
        if report is None:
            return self.choices
        return tuple(c for c in self.choices if report in CHOICE_REPORTS.get((self.name, c), ALL))


# Choices that only some reports take.
CHOICE_REPORTS = {("by", BY_DEAL): frozenset({"collection"})}
DASH = "—"

OPTIONS: tuple[Option, ...] = (
    Option(
        "pipeline",
        "pipeline",
        "text",
        "pipeline key (default: the default pipeline)",
        pgettext_lazy("report option", "Pipeline"),
        max_length=50,
        picker="pipeline",
        empty=DASH,
    ),
    Option("from", "date_from", "date", "period start, YYYY-MM-DD", _("From")),
    Option("to", "date_to", "date", "period end (exclusive), YYYY-MM-DD", _("To (exclusive)")),
    Option(
        "by",
        "by",
        "choice",
        "group rows by owner, team or source (collection: also deal)",
        _("Group by"),
        choices=(*GROUPINGS, BY_DEAL),
        choice_labels=(_("Owner"), _("Team"), _("Source"), _("Deal")),
        reports=ALL - UNGROUPED,
        empty=DASH,
    ),
    Option(
        "owner",
        "owner",
        "text",
        "only this owner's deals (username)",
        _("Owner"),
        max_length=150,
        picker="owner",
        empty=_("All"),
    ),
    Option(
        "team",
        "team",
        "text",
        "only this team's deals (team name)",
        _("Team"),
        max_length=100,
        picker="team",
        empty=_("All"),
    ),
    Option(
        "source",
        "source",
        "text",
        "only deals from this source",
        _("Source"),
        max_length=50,
        picker="source",
        empty=_("Any"),
    ),
    Option(
        "as_of",
        "as_of",
        "date",
        "snapshot: at the end of this date",
        _("As of"),
        reports=frozenset({"snapshot"}),
    ),
    Option(
        "grain",
        "grain",
        "choice",
        "forecast, collection: period length",
        _("Period length"),
        choices=("month", "quarter"),
        choice_labels=(_("Month"), _("Quarter")),
        default="month",
        reports=GRAIN_REPORTS,
    ),
    Option(
        "target",
        "target",
        "amount",
        "plan, forecast, diagnosis: revenue target (1200000, 1,200,000 or 120万)",
        _("Target amount"),
        reports=TARGET_REPORTS,
        max_length=40,
        placeholder="1,200,000 / 120万",
    ),
    Option(
        "simulate",
        "simulate",
        "flag",
        "forecast: add the Monte Carlo range",
        _("Simulated range"),
        default=False,
        reports=frozenset({"forecast"}),
    ),
    Option(
        "seed",
        "seed",
        "int",
        "forecast --simulate: seed",
        _("Simulation seed"),
        default=1,
        minimum=-(2**63),
        maximum=2**63 - 1,
        reports=frozenset({"forecast"}),
    ),
    Option(
        "runs",
        "runs",
        "int",
        "forecast --simulate: number of runs",
        _("Simulation runs"),
        default=10_000,
        minimum=100,
        maximum=1_000_000,
        reports=frozenset({"forecast"}),
    ),
    Option(
        "probabilities",
        "probabilities",
        "choice",
        "forecast (default configured), plan and diagnosis (default historical)",
        _("Probabilities"),
        choices=PROBABILITY_SOURCES,
        choice_labels=(_("Configured"), _("Learned from history")),
        reports=PROBABILITY_REPORTS,
        empty=DASH,
    ),
    Option(
        "window",
        "window_days",
        "int",
        "days of history behind learned rates and medians (default 365)",
        _("History window (days)"),
        default=365,
        minimum=1,
        maximum=3660,
    ),
    Option(
        "sort",
        "sort",
        "choice",
        "discipline: order reps by this field (numbers: largest first)",
        _("Sort by"),
        choices=DISCIPLINE_SORTS,
        choice_labels=(
            _("Owner"),
            _("Open deals"),
            _("Stale"),
            _("Stale %"),
            _("Overdue"),
            _("Overdue %"),
            _("Forced moves"),
            _("Bounces"),
            _("Days since last touch"),
        ),
        reports=frozenset({"discipline"}),
    ),
    Option(
        "now",
        "now",
        "datetime",
        "fix the clock (ISO date or date-time)",
        _("Report time"),
        web=False,
    ),
    Option(
        "lang",
        "lang",
        "choice",
        "language of messages and table headers (default: the request's or LOUDOU_LANGUAGE)",
        _("Language"),
        choices=("zh-hans", "en"),
        choice_labels=("中文", "English"),
        web=False,
    ),
)
BY_NAME = {option.name: option for option in OPTIONS}


# A picked value the picker does not offer (a hand-edited address, a deactivated team).
NOT_OFFERED = ("choose one from the list", "请从列表中选择")
AMOUNT_FORM = ("enter a number like 1,200,000 or 120万", "请输入金额，例如 1,200,000 或 120万")


def _error(option: Option, en: str, zh: str, form: tuple[str, str] | None = None) -> ParamError:
    return ParamError(en, zh, option=option.name, form=form)


def _parse_one(option: Option, raw: str) -> Any:
    text = raw.strip()
    if len(text) > option.max_length or "\x00" in text:
        raise _error(
            option,
            f"at most {option.max_length} characters",
            f"最多 {option.max_length} 个字符",
            AMOUNT_FORM if option.kind == "amount" else None,
        )
    if option.kind == "text":
        return text
    if option.kind == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise _error(option, "not a date (YYYY-MM-DD)", "不是日期（YYYY-MM-DD）") from exc
    if option.kind == "datetime":
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise _error(
                option, f"not an ISO date or date-time: {text!r}", "不是 ISO 日期或时间"
            ) from exc
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment
    if option.kind == "choice":
        if text not in option.choices:
            raise _error(
                option,
                f"one of {', '.join(option.choices)}",
                f"只能是 {'、'.join(option.choices)} 之一",
                NOT_OFFERED,
            )
        return text
    if option.kind == "amount":
        try:
            return parse_amount(text)
        except CellError as exc:
            raise _error(option, exc.en, exc.zh, AMOUNT_FORM) from exc
    if option.kind == "int":
        try:
            number = int(text)
        except ValueError as exc:
            raise _error(option, "a whole number", "应为整数") from exc
        return number
    if option.kind == "flag":
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("", "0", "false", "no", "off"):
            return False
        raise _error(option, "true or false", "只能是 true 或 false")
    raise AssertionError(option.kind)


def parse_options(
    report: str, raw: Mapping[str, Any], *, only_applicable: bool = False
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
            parsed = _parse_one(option, str(value))
        if only_applicable and not option.applies_to(report):
            parsed = option.default
        elif (
            option.kind == "choice"
            and parsed is not None
            and parsed not in option.choices_for(report)
        ):
            raise _error(
                option,
                f"{parsed} is for the {'/'.join(sorted(_reports_of(option, parsed)))} report only",
                f"{parsed} 只适用于 {'、'.join(sorted(_reports_of(option, parsed)))} 报表",
                NOT_OFFERED,
            )
        values[option.field] = parsed
    return values


def _reports_of(option: Option, choice: str) -> frozenset[str]:
    return CHOICE_REPORTS.get((option.name, choice), ALL)


# -- Each surface's words for an error ------------------------------------------------------


def cli_message(exc: ParamError, lang: str) -> str:
    """The command line's message: the option by its flag (``--target: …``)."""
    option = BY_NAME.get(exc.option or "")
    return exc.message(lang, name=option.flag if option else None)


def web_message(exc: ParamError, lang: str) -> str:
    """A web page's message: the form field by its label in ``lang`` and why in a form's
    words ("目标金额：请输入金额，例如 …"), never a URL parameter or a flag."""
    option = BY_NAME.get(exc.option or "")
    if option is None:
        return exc.message(lang)
    with translation.override(lang):
        label = str(option.label)
    return exc.message(lang, name=label, form=True)


# -- The web form ---------------------------------------------------------------------------


def _pipelines(user: User) -> list[tuple[str, str]]:
    return [(p.key, p.name) for p in Pipeline.objects.all()]


def _owners(user: User) -> list[tuple[str, str]]:
    """The people whose deals ``user`` may see, by display name (the username added
    where two share one); deactivated people too, for their past deals."""
    scope = Scope.of(user)
    people = User.objects.order_by("username")
    if not scope.everything:
        if scope.user_id is None:
            return []
        people = people.filter(Q(pk=scope.user_id) | Q(team_id__in=sorted(scope.team_ids)))
    found = [(u.username, str(u)) for u in people]
    shown = Counter(name for _u, name in found)
    return [(u, name if shown[name] == 1 else f"{name} ({u})") for u, name in found]


def _teams(user: User) -> list[tuple[str, str]]:
    scope = Scope.of(user)
    teams = Team.objects.all()
    if not scope.everything:
        teams = teams.filter(pk__in=sorted(scope.team_ids))
    return [(t.name, t.name) for t in teams]


def _sources(user: User) -> list[tuple[str, str]]:
    return [(source, source) for source in known_sources(user=user)]


PICKERS: dict[str, Callable[[User], list[tuple[str, str]]]] = {
    "pipeline": _pipelines,
    "owner": _owners,
    "team": _teams,
    "source": _sources,
}
# A picker is drawn when it offers a choice: a second pipeline, someone besides the user.
SHOWN_FROM = {"pipeline": 2, "owner": 2, "team": 1, "source": 1}


@dataclass
class FormField:
    """One field of a report form, as its template draws it."""

    option: Option
    value: str
    widget: str  # select, date, number, amount, checkbox
    choices: list[tuple[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.option.name

    @property
    def label(self) -> Any:
        return self.option.label

    @property
    def checked(self) -> bool:
        return self.value.strip().lower() in ("1", "true", "yes", "on")


class ReportForm:
    """The web form of report options: its fields drawn from ``OPTIONS`` (those of
    ``report``, or those ``names``), the pickers offering what ``user`` may see, and its
    values parsed as the command line and the API parse them, plus one check of the web's
    own: a picked value is one the picker offers."""

    def __init__(
        self,
        data: Mapping[str, str],
        *,
        user: User,
        report: str | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        self.data = data
        self.user = user
        self.report = report
        self.options = [
            o
            for o in OPTIONS
            if o.web
            and (names is None or o.name in names)
            and (report is None or o.applies_to(report))
        ]
        self._picked: dict[str, list[tuple[str, str]]] = {}

    def offered(self, option: Option) -> list[tuple[str, str]]:
        """What the picker of ``option`` offers (value, label), read once per form."""
        assert option.picker is not None
        if option.picker not in self._picked:
            self._picked[option.picker] = PICKERS[option.picker](self.user)
        return self._picked[option.picker]

    def fields(self) -> list[FormField]:
        """The fields to draw, in the description's order."""
        drawn = []
        for option in self.options:
            value = str(self.data.get(option.name, ""))
            if option.picker:
                offered = self.offered(option)
                if len(offered) < SHOWN_FROM[option.picker]:
                    continue  # nothing to choose
                drawn.append(FormField(option, value, "select", self._with_empty(option, offered)))
            elif option.kind == "choice":
                labels = dict(zip(option.choices, option.choice_labels, strict=True))
                offered = [(c, labels[c]) for c in option.choices_for(self.report)]
                drawn.append(FormField(option, value, "select", self._with_empty(option, offered)))
            else:
                widget = {"date": "date", "int": "number", "amount": "amount", "flag": "checkbox"}
                drawn.append(FormField(option, value, widget[option.kind]))
        return drawn

    @staticmethod
    def _with_empty(option: Option, offered: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return ([("", option.empty)] if option.empty is not None else []) + offered

    def clean(self, report: str, *, only_applicable: bool = False) -> dict[str, Any]:
        """The options for ``report``, parsed; raises ``ParamError`` (``web_message``
        names the field). The clock and the language are not the form's: left out."""
        # Every web option's value is checked, those of other reports too (the form keeps
        # them in its address while the report changes).
        raw = {o.name: self.data.get(o.name) for o in OPTIONS if o.web}
        values = parse_options(report, raw, only_applicable=only_applicable)
        for option in self.options:
            picked = values.get(option.field)
            if option.picker and picked and picked not in dict(self.offered(option)):
                raise _error(option, f"{picked!r} is not offered", "请从列表中选择", NOT_OFFERED)
        values.pop("now", None)
        values.pop("lang", None)
        return values


def amount_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"
