"""The reports page: pick a report and its options, read it as a table, download it."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from loudou.analytics.catalog import CATALOG as REPORTS
from loudou.analytics.output import to_csv, to_grid, to_json
from loudou.analytics.params import BY_DEAL, ParamError
from loudou.core.errors import ServiceError
from loudou.pipelines.models import Pipeline, ProbabilityAdoption
from loudou.pipelines.services import (
    adopt_learned_probabilities,
    pipeline_by_key,
    revert_probability_adoption,
)

from .options import BY_NAME, OPTIONS, parse_options
from .services import run_report

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
SORTS = {
    "owner": gettext_lazy("Owner"),
    "stale_pct": gettext_lazy("Stale %"),
    "overdue_pct": gettext_lazy("Overdue %"),
    "forced_moves": gettext_lazy("Forced moves"),
    "bounces": gettext_lazy("Bounces"),
    "median_days_since_touch": gettext_lazy("Days since last touch"),
}
BY_LABELS = {
    "owner": gettext_lazy("Owner"),
    "team": gettext_lazy("Team"),
    "source": gettext_lazy("Source"),
}


def _options(request: HttpRequest, name: str) -> dict[str, Any]:
    """Report options from the query string, parsed as the command line and the API parse
    them (reports/options.py): a bad value raises ParamError, never silently dropped.
    Fields of other reports that the form carries along are checked and left out."""
    values = parse_options(name, request.GET, only_applicable=True)
    values["lang"] = get_language()
    values.pop("now", None)
    return values


@login_required
def report_page(request: HttpRequest) -> HttpResponse:
    name = request.GET.get("name", "funnel")
    if name not in REPORTS:
        raise Http404
    groupings = dict(BY_LABELS)
    if name == "collection":
        groupings[BY_DEAL] = gettext_lazy("Deal")
    grid = result = None
    status = 200
    try:
        result = run_report(name=name, user=request.user, **_options(request, name))
        grid = to_grid(result, get_language())
    except ParamError as exc:
        messages.error(request, exc.message(get_language()))
        status = 400  # the form again, saying which option and why
    return render(
        request,
        "reports/report.html",
        {
            "name": name,
            "titles": TITLES,
            "title": TITLES[name],
            "pipelines": Pipeline.objects.all(),
            "groupings": groupings if BY_NAME["by"].applies_to(name) else {},
            "values": request.GET,
            "show_target": BY_NAME["target"].applies_to(name),
            "show_probabilities": BY_NAME["probabilities"].applies_to(name),
            "show_grain": BY_NAME["grain"].applies_to(name),
            "sorts": SORTS if BY_NAME["sort"].applies_to(name) else {},
            # The options without a field of their own above, drawn from their description.
            "more_options": [
                (o, request.GET.get(o.name, ""))
                for o in OPTIONS
                if o.label is not None and o.applies_to(name)
            ],
            "adoptions": _adoptions(request, name),
            "grid": grid,
            # (text, numeric) per cell, so that numbers are right-aligned
            "cells": [list(zip(r, grid.numeric, strict=True)) for r in grid.rows] if grid else [],
            "header_cells": list(zip(grid.headers, grid.numeric, strict=True)) if grid else [],
            "params": result.params if result else {},
            "query": request.GET.urlencode(),
        },
        status=status,
    )


def _adoptions(request: HttpRequest, name: str) -> list[ProbabilityAdoption] | None:
    """For an admin on the learned-rates page: the recent adoptions (None: no panel)."""
    if name != "stage_probability" or not request.user.is_loudou_admin:
        return None
    return list(
        ProbabilityAdoption.objects.select_related("pipeline", "adopted_by", "reverted_by")[:5]
    )


@login_required
@require_POST
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
@require_POST
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
        result = run_report(name=name, user=request.user, **_options(request, name))
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
