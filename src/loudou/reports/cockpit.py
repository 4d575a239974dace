"""The cockpit: a manager's dashboard of charts (a rep sees their own deals).

Each panel is drawn from reports run by ``run_report`` for the asking user with the
cockpit's options (period, pipeline, team, rep, target), so a panel shows exactly what
`loudou report NAME --user USER` prints for the same options. Reports a panel needs are
run once per request (``CockpitRun`` remembers them), on the cached frames.
"""

import datetime as dt
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connections
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from loudou.analytics.params import ParamError, ReportParams, ReportResult
from loudou.people.models import User

from . import charts
from .loader import frames_for
from .options import web_message
from .services import finding_deals, run_report, visibility_for

TREND_QUARTERS = 4
MAX_FINDINGS = 30


@dataclass
class Panel:
    """One box of the cockpit: a figure, the results it was drawn from (the first is the
    one its CSV holds; the XLSX has a sheet per result), and extras for its template."""

    key: str
    title: str
    figure: dict[str, Any]
    results: list[tuple[str, ReportResult]]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class CockpitRun:
    """The reports of one cockpit request: the user, the shared options, a memo."""

    user: User | None
    options: dict[str, Any]
    now: dt.datetime
    plan_by_owner: bool = False
    memo: dict[tuple, ReportResult] = field(default_factory=dict)

    def run(self, name: str, **extra: Any) -> ReportResult:
        """Report ``name`` with the cockpit's options overridden by ``extra``."""
        options = {**self.options, **extra}
        key = (name, tuple(sorted((k, repr(v)) for k, v in options.items())))
        if key not in self.memo:
            if name in DAY_STABLE and options.get("probabilities") in (None, "configured"):
                self.memo[key] = self._same_day(name, key, options)
            else:
                self.memo[key] = run_report(name=name, user=self.user, now=self.now, **options)
        return self.memo[key]

    def _same_day(self, name: str, key: tuple, options: dict[str, Any]) -> ReportResult:
        """A report whose numbers depend on the data, the options and today's date only
        (the simulated forecast with configured probabilities: the costliest panel), kept
        until the data change (a new frames object) or the day does: a manager reloading
        the cockpit, or colleagues who see the same deals, do not pay for it again."""
        # The frames object stands for the data: the loader keeps one per data version
        # (change records), so a new object means new data. Uncached frames (no
        # trustworthy marker) are new objects every time: never a stale hit.
        frames = frames_for()
        today = timezone.localtime(self.now).date()
        cache_key = (id(frames), today, visibility_for(self.user), key)
        with _same_day_lock:
            entry = _same_day_cache.get(cache_key)
        if entry is not None and entry[0]() is frames:
            cached = entry[1]
        else:
            cached = run_report(name=name, user=self.user, now=self.now, **options)
            with _same_day_lock:
                _same_day_cache[cache_key] = (weakref.ref(frames), cached)
                while len(_same_day_cache) > SAME_DAY_ENTRIES:
                    _same_day_cache.popitem(last=False)
        # The echo says when it was asked, as a fresh run would.
        now = timezone.localtime(self.now).isoformat()
        return replace(cached, params={**cached.params, "now": now})


# Reports that are functions of (data, options, today) -- see CockpitRun._same_day.
DAY_STABLE = {"forecast"}
SAME_DAY_ENTRIES = 64
_same_day_cache: OrderedDict[tuple, tuple[weakref.ref, ReportResult]] = OrderedDict()
_same_day_lock = threading.Lock()


def _funnel(run: CockpitRun) -> Panel:
    cohort, flow = run.run("funnel"), run.run("flow")
    return Panel(
        "funnel",
        _("Funnel"),
        charts.funnel(cohort, flow),
        [("funnel", cohort), ("flow", flow)],
    )


def _conversion(run: CockpitRun) -> Panel:
    team, by_owner = run.run("funnel"), run.run("funnel", by="owner")
    diagnosis = run.run("diagnosis")
    outliers = [r for r in diagnosis.rows if r["code"] == "rep_outlier"]
    return Panel(
        "conversion",
        _("Conversion by rep and stage"),
        charts.conversion_heatmap(by_owner, team, outliers),
        [("funnel_by_owner", by_owner), ("funnel", team)],
        {"outliers": outliers},
    )


def _times(run: CockpitRun) -> Panel:
    stays, cycle = run.run("time_in_stage"), run.run("cycle")
    return Panel(
        "times",
        _("Time in stage and sales cycle"),
        charts.time_in_stage(stays, cycle),
        [("time_in_stage", stays), ("cycle", cycle)],
    )


def _forecast(run: CockpitRun) -> Panel:
    result = run.run("forecast", simulate=True)
    return Panel("forecast", _("Forecast"), charts.forecast(result), [("forecast", result)])


def _plan(run: CockpitRun) -> Panel:
    by_owner = run.plan_by_owner
    result = run.run("plan", **({"by": "owner"} if by_owner else {}))
    return Panel(
        "plan",
        _("Plan for the target"),
        charts.plan(result),
        [("plan", result)],
        {"by_owner": by_owner, "has_target": result.totals.get("target") is not None},
    )


def quarter_slices(end: dt.date, count: int = TREND_QUARTERS) -> list[tuple[str, dt.date, dt.date]]:
    """The ``count`` calendar quarters up to the one holding the day before ``end``."""
    last = end - dt.timedelta(days=1)
    year, quarter = last.year, (last.month - 1) // 3
    slices = []
    for _i in range(count):
        start = dt.date(year, quarter * 3 + 1, 1)
        stop = dt.date(year + (quarter == 3), (quarter + 1) % 4 * 3 + 1, 1)
        slices.append((f"{year} Q{quarter + 1}", start, stop))
        year, quarter = (year, quarter - 1) if quarter else (year - 1, 3)
    return slices[::-1]


def _trend(run: CockpitRun) -> Panel:
    end = run.options.get("date_to") or (timezone.localtime(run.now).date() + dt.timedelta(days=1))
    slices = [
        (label, run.run("stage_probability", date_from=start, date_to=stop))
        for label, start, stop in quarter_slices(end)
    ]
    rows = []
    for label, result in slices:
        rows.append(
            {
                "period": label,
                "stage": None,
                "stage_name": _("Win rate"),
                "sample": result.totals.get("closed"),
                "historical_probability": result.totals.get("win_rate"),
                "configured_probability": None,
            }
        )
        rows += [
            {
                "period": label,
                "stage": r["stage"],
                "stage_name": r["stage_name"],
                "sample": r["sample"],
                "historical_probability": r["historical_probability"],
                "configured_probability": r["configured_probability"],
            }
            for r in result.rows
        ]
    combined = ReportResult(
        "win_rate_trend",
        slices[-1][1].params if slices else {},
        rows,
        {},
        [
            "period",
            "stage",
            "stage_name",
            "sample",
            "historical_probability",
            "configured_probability",
        ],
    )
    return Panel(
        "trend",
        _("Win rate and stage probabilities over time"),
        charts.probabilities_over_time(slices),
        [("win_rate_trend", combined)],
    )


def _collection(run: CockpitRun) -> Panel:
    result = run.run("collection")
    return Panel(
        "collection",
        _("Collection"),
        charts.collection(result),
        [("collection", result)],
        {"outstanding": result.totals.get("outstanding")},
    )


def _diagnosis(run: CockpitRun) -> Panel:
    result = run.run("diagnosis")
    # The most severe first (the report's order); the rest are on the report page.
    shown = result.rows[:MAX_FINDINGS]
    deals = finding_deals(user=run.user, findings=shown)
    return Panel(
        "diagnosis",
        _("Diagnosis"),
        {},
        [("diagnosis", result)],
        {
            "findings": list(zip(shown, deals, strict=True)),
            "more": max(0, len(result.rows) - MAX_FINDINGS),
        },
    )


def _discipline(run: CockpitRun) -> Panel:
    result = run.run("discipline")
    return Panel(
        "discipline", _("Update discipline"), charts.discipline(result), [("discipline", result)]
    )


PANELS: dict[str, Callable[[CockpitRun], Panel]] = {
    "funnel": _funnel,
    "conversion": _conversion,
    "times": _times,
    "forecast": _forecast,
    "plan": _plan,
    "trend": _trend,
    "collection": _collection,
    "diagnosis": _diagnosis,
    "discipline": _discipline,
}

PANEL_TITLES = {
    "funnel": gettext_lazy("Funnel"),
    "conversion": gettext_lazy("Conversion by rep and stage"),
    "times": gettext_lazy("Time in stage and sales cycle"),
    "forecast": gettext_lazy("Forecast"),
    "plan": gettext_lazy("Plan for the target"),
    "trend": gettext_lazy("Win rate and stage probabilities over time"),
    "collection": gettext_lazy("Collection"),
    "diagnosis": gettext_lazy("Diagnosis"),
    "discipline": gettext_lazy("Update discipline"),
}


def cockpit(
    *,
    user: User | None,
    options: dict[str, Any],
    now: dt.datetime | None = None,
    panels: list[str] | None = None,
    plan_by_owner: bool = False,
) -> list[Panel]:
    """The cockpit's panels (all, or those named) for ``user`` with ``options`` (the
    ReportParams fields every report takes). Raises ``ParamError`` for bad options."""
    run = CockpitRun(
        user=user, options=dict(options), now=now or timezone.now(), plan_by_owner=plan_by_owner
    )
    # Options every report refuses (a period ending before it starts) are refused once.
    ReportParams(now=run.now, **run.options)
    # The user's scope, here and now: it is cached on the user object, and computed first
    # by the forecast's thread it would be read on that thread's connection or this one,
    # whichever came first (a page's query count then varied by one).
    visibility_for(user)
    keys = panels or list(PANELS)
    lang = str(options.get("lang") or "zh-hans")

    def build(key: str) -> Panel:
        try:
            return PANELS[key](run)
        except ParamError as exc:
            # One panel's report refusing the options (the plan without a target) leaves
            # the others standing; the panel says why.
            return Panel(key, str(PANEL_TITLES[key]), {}, [], {"error": web_message(exc, lang)})

    # The forecast's simulation is numpy on one core: run it beside the other panels
    # (Polars, which releases the GIL too), in a thread with its own connection.
    background = {key: None for key in keys if key in PARALLEL and len(keys) > 1}
    language = translation.get_language()
    threads = [
        threading.Thread(target=_in_thread, args=(build, key, background, language))
        for key in background
    ]
    for thread in threads:
        thread.start()
    built = {key: build(key) for key in keys if key not in background}
    for thread in threads:
        thread.join()
    for key, outcome in background.items():
        if isinstance(outcome, BaseException):
            raise outcome
        built[key] = outcome
    return [built[key] for key in keys]


PARALLEL = {"forecast"}


def _in_thread(
    build: Callable[[str], Panel], key: str, out: dict[str, Any], language: str | None
) -> None:
    # The active language is per thread: without it, this panel's titles and chart
    # labels were in the default language whatever the page's.
    try:
        with translation.override(language):
            out[key] = build(key)
    except BaseException as exc:  # handed to the request's thread, which raises it
        out[key] = exc
    finally:
        connections.close_all()  # this thread's connections only
