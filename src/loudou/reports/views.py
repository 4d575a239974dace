"""The reports page: pick a report and its options, read it as a table, download it."""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from loudou.analytics.catalog import CATALOG as REPORTS
from loudou.analytics.output import to_csv, to_grid, to_json
from loudou.analytics.params import GROUPINGS, ParamError
from loudou.pipelines.models import Pipeline

from .services import run_report

TITLES = {
    "snapshot": gettext_lazy("Pipeline now (snapshot)"),
    "funnel": gettext_lazy("Cohort funnel"),
    "flow": gettext_lazy("Stage flow"),
    "time_in_stage": gettext_lazy("Time in stage"),
    "cycle": gettext_lazy("Sales cycle"),
    "win_rate": gettext_lazy("Win rate"),
    "forecast": gettext_lazy("Forecast"),
}
BY_LABELS = {
    "owner": gettext_lazy("Owner"),
    "team": gettext_lazy("Team"),
    "source": gettext_lazy("Source"),
}


def _options(request: HttpRequest) -> dict[str, Any]:
    """Report options from the query string; a bad date raises ParamError."""

    def day(name: str) -> dt.date | None:
        value = request.GET.get(name, "").strip()
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            message = _("%(name)s: not a date (YYYY-MM-DD)") % {"name": name}
            raise ParamError(message, message) from exc

    by = request.GET.get("by") or None
    return {
        "pipeline": request.GET.get("pipeline") or None,
        "date_from": day("from"),
        "date_to": day("to"),
        "by": by if by in GROUPINGS else None,
        "as_of": day("as_of"),
        "lang": get_language(),
    }


@login_required
def report_page(request: HttpRequest) -> HttpResponse:
    name = request.GET.get("name", "funnel")
    if name not in REPORTS:
        raise Http404
    grid = result = None
    try:
        result = run_report(name=name, user=request.user, **_options(request))
        grid = to_grid(result, get_language())
    except ParamError as exc:
        messages.error(request, exc.message(get_language()))
    return render(
        request,
        "reports/report.html",
        {
            "name": name,
            "titles": TITLES,
            "title": TITLES[name],
            "pipelines": Pipeline.objects.all(),
            "groupings": BY_LABELS,
            "values": request.GET,
            "grid": grid,
            # (text, numeric) per cell, so that numbers are right-aligned
            "cells": [list(zip(r, grid.numeric, strict=True)) for r in grid.rows] if grid else [],
            "header_cells": list(zip(grid.headers, grid.numeric, strict=True)) if grid else [],
            "params": result.params if result else {},
            "query": request.GET.urlencode(),
        },
    )


@login_required
def report_download(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    if name not in REPORTS or fmt not in ("csv", "json"):
        raise Http404
    try:
        result = run_report(name=name, user=request.user, **_options(request))
    except ParamError as exc:
        return HttpResponse(
            exc.message(get_language()), status=400, content_type="text/plain; charset=utf-8"
        )
    if fmt == "json":
        response = HttpResponse(to_json(result), content_type="application/json")
    else:
        response = HttpResponse("\ufeff" + to_csv(result), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="loudou-{name}.{fmt}"'
    return response
