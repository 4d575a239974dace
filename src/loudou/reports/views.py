"""The reports page: pick a report and its options, read it as a table, download it."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from loudou.analytics.catalog import CATALOG as REPORTS
from loudou.analytics.output import Grid, to_csv, to_grid, to_json, to_xlsx
from loudou.analytics.params import ParamError
from loudou.core.errors import ServiceError
from loudou.core.views import require_post
from loudou.pipelines.models import ProbabilityAdoption, Stage
from loudou.pipelines.services import (
    adopt_learned_probabilities,
    pipeline_by_key,
    revert_probability_adoption,
)

from . import charts
from .cockpit import PANELS, cockpit
from .options import ReportForm, web_message
from .services import finding_deals, run_report, visible_deal_names

TITLES = {
    "snapshot": gettext_lazy("Pipeline now (snapshot)"),
    "funnel": gettext_lazy("Cohort funnel"),
    "flow": gettext_lazy("Stage flow"),
    "time_in_stage": gettext_lazy("Time in stage"),
    "cycle": gettext_lazy("Sales cycle"),
    "win_rate": gettext_lazy("Win rate"),
    "forecast": gettext_lazy("Forecast"),
    "stage_probability": gettext_lazy("Learned stage win rates"),
    "plan": gettext_lazy("Target plan"),
    "diagnosis": gettext_lazy("Diagnosis"),
    "discipline": gettext_lazy("Update discipline"),
    "collection": gettext_lazy("Collection"),
    "activities": gettext_lazy("Activities by stage"),
}


def _options(form: ReportForm, name: str) -> dict[str, Any]:
    """Report options from the form, parsed as the command line and the API parse them
    (reports/options.py): a bad value raises ParamError, never silently dropped. Fields
    of other reports that the form carries along are checked and left out."""
    values = form.clean(name, only_applicable=True)
    values["lang"] = get_language()
    return values


@login_required
def report_page(request: HttpRequest) -> HttpResponse:
    name = request.GET.get("name", "funnel")
    if name not in REPORTS:
        raise Http404
    form = ReportForm(request.GET, user=request.user, report=name)
    grid = result = None
    figure: dict[str, Any] = {}
    cells: list[list[tuple[Any, bool]]] = []
    header_cells: list[tuple[str, bool]] = []
    status = 200
    try:
        result = run_report(name=name, user=request.user, **_options(form, name))
        grid = to_grid(result, get_language())
        figure = charts.report_figure(name, result)
        # (text, numeric) per cell, so that numbers are right-aligned
        cells = [list(zip(r, grid.numeric, strict=True)) for r in grid.rows]
        header_cells = list(zip(grid.headers, grid.numeric, strict=True))
        if name == "diagnosis":
            _add_deal_links(request, result.rows, header_cells, cells)
        if "deal_id" in grid.keys:
            _name_deals(request, result.rows, grid.keys.index("deal_id"), header_cells, cells)
    except ParamError as exc:
        messages.error(request, web_message(exc, get_language()))
        status = 400  # the form again, saying which field and why
    return render(
        request,
        "reports/report.html",
        {
            "name": name,
            "titles": TITLES,
            "title": TITLES[name],
            "fields": form.fields(),
            "values": request.GET,
            "adoptions": _adoptions(request, name),
            "grid": grid,
            "figure": figure,
            "cells": cells,
            "header_cells": header_cells,
            "params": result.params if result else {},
            "query": request.GET.urlencode(),
        },
        status=status,
    )


def _add_deal_links(
    request: HttpRequest,
    findings: list[dict[str, Any]],
    header_cells: list[tuple[str, bool]],
    cells: list[list[tuple[Any, bool]]],
) -> None:
    """A column of the deals each finding names, as links to their pages (by name; only
    the deals the user may see)."""
    header_cells.append((_("Deals"), False))
    for row, deals in zip(cells, finding_deals(user=request.user, findings=findings), strict=True):
        links = format_html_join(
            " · ", '<a href="{}">{}</a>', ((reverse("deal_detail", args=[i]), n) for i, n in deals)
        )
        row.append((links or "—", False))


def _name_deals(
    request: HttpRequest,
    rows: list[dict[str, Any]],
    column: int,
    header_cells: list[tuple[str, bool]],
    cells: list[list[tuple[Any, bool]]],
) -> None:
    """A deal column (collection per deal) shows each deal's name as a link to its page,
    not its id (the downloads keep the id)."""
    names = visible_deal_names(user=request.user, deal_ids=(r["deal_id"] for r in rows))
    header_cells[column] = (header_cells[column][0], False)
    for row, cells_of_row in zip(rows, cells, strict=True):
        deal_id = row["deal_id"]
        if deal_id in names:
            link = format_html(
                '<a href="{}">{}</a>', reverse("deal_detail", args=[deal_id]), names[deal_id]
            )
            cells_of_row[column] = (link, False)


def _adoptions(request: HttpRequest, name: str) -> list[ProbabilityAdoption] | None:
    """For an admin on the learned-rates page: the recent adoptions (None: no panel), each
    with ``stage_changes``: (stage name, old, new probability) to show as percentages."""
    if name != "stage_probability" or not request.user.is_loudou_admin:
        return None
    adoptions = list(
        ProbabilityAdoption.objects.select_related("pipeline", "adopted_by", "reverted_by")[:5]
    )
    stages = Stage.objects.in_bulk({c["stage_id"] for a in adoptions for c in a.changes})
    for adoption in adoptions:
        adoption.stage_changes = [
            (
                stages[c["stage_id"]].name if c["stage_id"] in stages else c["key"],
                Decimal(c["old"]),
                Decimal(c["new"]),
            )
            for c in adoption.changes
        ]
    return adoptions


@login_required
@require_post
def adopt_probabilities(request: HttpRequest) -> HttpResponse:
    """Adopt the learned probabilities of a pipeline (admins; the service checks)."""
    pipeline = pipeline_by_key(request.POST.get("pipeline") or None)
    if pipeline is None:
        raise Http404
    try:
        adoption = adopt_learned_probabilities(actor=request.user, pipeline=pipeline)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Adopted the learned probabilities of %(n)d stages.") % {"n": len(adoption.changes)},
        )
    return redirect(f"{reverse('reports')}?name=stage_probability")


@login_required
@require_post
def revert_probabilities(request: HttpRequest, adoption_id: int) -> HttpResponse:
    adoption = get_object_or_404(ProbabilityAdoption, pk=adoption_id)
    try:
        revert_probability_adoption(actor=request.user, adoption=adoption)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The previous probabilities are back."))
    return redirect(f"{reverse('reports')}?name=stage_probability")


@login_required
def report_download(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    if name not in REPORTS or fmt not in ("csv", "json"):
        raise Http404
    try:
        form = ReportForm(request.GET, user=request.user, report=name)
        result = run_report(name=name, user=request.user, **_options(form, name))
    except ParamError as exc:
        return HttpResponse(
            web_message(exc, get_language()), status=400, content_type="text/plain; charset=utf-8"
        )
    if fmt == "json":
        response = HttpResponse(to_json(result), content_type="application/json")
    else:
        response = HttpResponse("\ufeff" + to_csv(result), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="loudou-{name}.{fmt}"'
    return response


TABLE_PANELS = {"discipline", "plan"}
# The report page behind each panel ("open as a report").
REPORT_LINKS = {
    "funnel": "name=funnel",
    "conversion": "name=funnel&by=owner",
    "times": "name=time_in_stage",
    "forecast": "name=forecast&simulate=1",
    "plan": "name=plan",
    "trend": "name=stage_probability",
    "collection": "name=collection",
    "diagnosis": "name=diagnosis",
    "discipline": "name=discipline",
}


# The cockpit's filters (reports/options.py describes them, as for the report pages).
COCKPIT_FIELDS = ("pipeline", "from", "to", "owner", "team", "target", "probabilities")


def _cockpit_form(request: HttpRequest) -> ReportForm:
    return ReportForm(request.GET, user=request.user, names=COCKPIT_FIELDS)


def _cockpit_options(form: ReportForm) -> dict[str, Any]:
    """The report options the cockpit passes to every panel's reports: the period, the
    pipeline, the team and rep filters, the target and probabilities."""
    # Every option parsed and checked as the command line and the API parse them.
    options = form.clean("forecast")
    options["lang"] = get_language()
    keep = ("pipeline", "date_from", "date_to", "lang", "target", "probabilities", "grain")
    chosen = {k: options[k] for k in keep}
    chosen.update({k: options[k] for k in ("owner", "team") if options[k]})
    return chosen


@login_required
def cockpit_page(request: HttpRequest) -> HttpResponse:
    """The cockpit: every panel's chart, drawn from the reports for the user's scope."""
    panels = []
    status = 200
    form = _cockpit_form(request)
    try:
        panels = cockpit(
            user=request.user,
            options=_cockpit_options(form),
            plan_by_owner=request.GET.get("plan_by") == "owner",
        )
    except ParamError as exc:
        messages.error(request, web_message(exc, get_language()))
        status = 400
    errors = {p.extra["error"] for p in panels if "error" in p.extra}
    if panels and len(errors) == 1 and all("error" in p.extra for p in panels):
        # Every panel refused the same option: say it once, as the report page does.
        messages.error(request, errors.pop())
        panels, status = [], 400
    for panel in panels:
        # Tables only where the table is the point (the discipline per rep); the others
        # are in each panel's downloads and on the report pages (and 200 reps' rows would
        # double the page's time).
        panel.extra["report"] = REPORT_LINKS[panel.key]
        if panel.results and panel.key in TABLE_PANELS:
            grid = to_grid(panel.results[0][1], get_language())
            panel.extra["grid"] = grid
            panel.extra["table"] = _table_html(grid)
    return render(
        request,
        "reports/cockpit.html",
        {
            "panels": panels,
            "fields": form.fields(),
            "values": request.GET,
            "query": request.GET.urlencode(),
            "periods": _period_presets(),
        },
        status=status,
    )


def _table_html(grid: Grid) -> SafeString:
    """A grid as table rows, escaped, built in Python: a team of 200 reps is 2,000 cells,
    which the template language would take several times longer to render."""
    head = format_html_join(
        "", "<th{}>{}</th>", ((_num(n), h) for h, n in zip(grid.headers, grid.numeric, strict=True))
    )
    rows = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (
                format_html_join(
                    "",
                    "<td{}>{}</td>",
                    ((_num(n), c) for c, n in zip(row, grid.numeric, strict=True)),
                ),
            )
            for row in grid.rows
        ),
    )
    if not grid.rows:
        rows = format_html('<tr><td class="muted">{}</td></tr>', _("No data."))
    return format_html("<thead><tr>{}</tr></thead><tbody>{}</tbody>", head, rows)


def _num(numeric: bool) -> SafeString:
    return mark_safe(' class="num"') if numeric else mark_safe("")


def _period_presets() -> list[tuple[str, str, str]]:
    """(label, from, to) for the period picker: this and last quarter, this year, the
    last 90 days (dates in the organisation's time zone)."""
    today = timezone.localdate()
    quarter_start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    next_quarter = (quarter_start + dt.timedelta(days=92)).replace(day=1)
    last_quarter = (quarter_start - dt.timedelta(days=1)).replace(day=1)
    last_quarter = last_quarter.replace(month=(last_quarter.month - 1) // 3 * 3 + 1)
    tomorrow = today + dt.timedelta(days=1)
    return [
        (_("This quarter"), quarter_start.isoformat(), next_quarter.isoformat()),
        (_("Last quarter"), last_quarter.isoformat(), quarter_start.isoformat()),
        (
            _("This year"),
            dt.date(today.year, 1, 1).isoformat(),
            dt.date(today.year + 1, 1, 1).isoformat(),
        ),
        (_("Last 90 days"), (tomorrow - dt.timedelta(days=90)).isoformat(), tomorrow.isoformat()),
    ]


@login_required
def cockpit_download(request: HttpRequest, panel: str, fmt: str) -> HttpResponse:
    """One panel's numbers: CSV (its main report) or XLSX (a sheet per report)."""
    if panel not in PANELS or fmt not in ("csv", "xlsx"):
        raise Http404
    try:
        (built,) = cockpit(
            user=request.user,
            options=_cockpit_options(_cockpit_form(request)),
            panels=[panel],
            plan_by_owner=request.GET.get("plan_by") == "owner",
        )
    except ParamError as exc:
        return HttpResponse(
            web_message(exc, get_language()), status=400, content_type="text/plain; charset=utf-8"
        )
    if not built.results:
        return HttpResponse(
            built.extra["error"], status=400, content_type="text/plain; charset=utf-8"
        )
    if fmt == "xlsx":
        response = HttpResponse(
            to_xlsx(built.results),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        csv_text = "\ufeff" + to_csv(built.results[0][1])
        response = HttpResponse(csv_text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="loudou-cockpit-{panel}.{fmt}"'
    return response
