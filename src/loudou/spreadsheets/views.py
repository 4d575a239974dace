"""Web import (upload; a background check; confirm; a background import) and export
downloads. The work itself is in ``jobs`` and ``tasks``."""

import io
import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from loudou.core.errors import ServiceError
from loudou.core.views import require_post
from loudou.deals.listing import ListFilters
from loudou.people.access import Scope
from loudou.pipelines.models import Pipeline

from . import jobs
from .export import KINDS, rows, write_csv, write_xlsx
from .models import ImportJob


class UploadForm(forms.Form):
    source = forms.ChoiceField(
        label=gettext_lazy("What you upload"),
        choices=[
            ("", gettext_lazy("A spreadsheet of deals (Loudou's columns or a CRM's report)")),
            ("salesforce", gettext_lazy("From Salesforce… (Data Export zip)")),
            ("hubspot", gettext_lazy("From HubSpot… (deals, companies, contacts exports)")),
            ("pipedrive", gettext_lazy("From Pipedrive… (deals, organizations, persons)")),
            ("zoho", gettext_lazy("From Zoho CRM… (Deals and Stage History)")),
            ("chinese", gettext_lazy("From 销售易, 纷享销客 or 悟空CRM… (opportunity export)")),
        ],
        required=False,
    )
    file = forms.FileField(label=gettext_lazy("CSV, XLSX or ZIP file"))
    pipeline = forms.ModelChoiceField(
        label=gettext_lazy("Pipeline"),
        queryset=Pipeline.objects.filter(archived=False),  # it takes no new deals
        required=False,
        empty_label=gettext_lazy("Default pipeline"),
    )
    create_owners = forms.BooleanField(
        label=gettext_lazy("Create unknown owners and teams (administrators)"), required=False
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not Scope.of(actor).everything:
            del self.fields["create_owners"]


def _require_importer(request: HttpRequest) -> None:
    if not Scope.of(request.user).may_override:
        raise PermissionDenied(_("Only managers and administrators can import."))


def _job(request: HttpRequest, token: str) -> ImportJob:
    _require_importer(request)
    job = jobs.job_of(request.user, token)
    if job is None:
        raise Http404(_("No such import; upload the file again."))
    return job


@login_required
def import_deals_view(request: HttpRequest) -> HttpResponse:
    """Upload a file: it is stored and checked in the background (see ``jobs``)."""
    _require_importer(request)
    form = UploadForm(request.POST or None, request.FILES or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = jobs.start(
                actor=request.user,
                upload=upload,
                name=upload.name,
                size=upload.size,
                pipeline=form.cleaned_data["pipeline"],
                create_owners=form.cleaned_data.get("create_owners", False),
                lang=get_language(),
                vendor=form.cleaned_data.get("source") or "",
            )
        except ServiceError as exc:
            for message in getattr(exc, "errors", {"": exc.message}).values():
                messages.error(request, str(message))
        else:
            return redirect("import_job", token=job.token)
    recent = ImportJob.objects.filter(user=request.user)[:5]
    return render(
        request,
        "spreadsheets/import.html",
        {
            "form": form,
            "recent": recent,
            "max_mb": settings.LOUDOU_IMPORT_MAX_UPLOAD_BYTES // 2**20,
        },
    )


def _job_context(request: HttpRequest, job: ImportJob) -> dict[str, Any]:
    """What the job page shows, in the reader's language (the job keeps both)."""
    lang = get_language()
    zh = lang.lower().startswith("zh")
    pick = 0 if zh else 1
    columns = [(c[0], c[1:][pick]) for c in job.preview.get("columns", [])]
    migration = job.preview.get("migration")
    errors = [(r, c, v, zh_text if zh else en_text) for r, c, v, zh_text, en_text in job.errors]
    if migration:
        from .vendors import web

        errors = [(r, web.problem_column(c, lang, migration), v, m) for r, c, v, m in errors]
        migration = web.shown(migration, lang)
    return {
        "job": job,
        "migration": migration,
        "targets": _targets(job) if migration else [],
        "map_pipeline": (
            (job.pipeline or Pipeline.objects.filter(is_default=True).first())
            if migration
            else None
        ),
        "people": (
            [(u.username, str(u)) for u in Scope.of(request.user).owner_choices()]
            if migration
            else []
        ),
        "role_problems": [
            (r, c, v, zh_text if zh else en_text)
            for r, c, v, zh_text, en_text in (
                ((migration or {}).get("contact_roles") or {}).get("problems", [])
            )
        ],
        "progress": jobs.progress(job),
        "columns": columns,
        "header": job.preview.get("header", []),
        "rows": job.preview.get("rows", []),
        "summary": job.summary,
        "errors": errors,
        "more_errors": max(0, job.error_count - len(job.errors)),
        "problem": (job.problem.get("zh") if zh else job.problem.get("en")) if job.problem else "",
    }


def _targets(job: ImportJob) -> list[tuple[str, str]]:
    """The stages a migration's source stages may map to: the target pipeline's. Archived
    ones are offered, marked: history may pass through them (the check refuses a mapping
    that would leave open deals in one)."""
    pipeline = job.pipeline or Pipeline.objects.filter(is_default=True).first()
    if pipeline is None:
        return []
    return [
        (s.key, _("%(stage)s (archived)") % {"stage": s.name} if s.archived else s.name)
        for s in pipeline.stages.order_by("position")
    ]


@login_required
@require_post
def import_options(request: HttpRequest, token: str) -> HttpResponse:
    """A migration's preview, edited: the stage mapping (or a mirror pipeline), the date
    fixes and the columns to leave out; then it is checked again."""
    job = _job(request, token)
    stages = (job.preview.get("migration") or {}).get("stages", [])
    keys = {key for key, _name in _targets(job)}
    options: dict[str, Any] = {"stages": {}, "ignore": request.POST.getlist("ignore")[:200]}
    if request.POST.get("mode") == "mirror":
        # The source's order is the preview's (derived from the export the same way).
        options["mirror"] = (request.POST.get("mirror") or "").strip()[:100] or job.vendor
    else:
        for i, stage in enumerate(stages):
            chosen = request.POST.get(f"stage-{i}", "")
            if chosen in keys:
                options["stages"][stage["label"]] = chosen
    people = {u.username for u in Scope.of(request.user).owner_choices()}
    options["owners"] = {}
    for i, owner in enumerate((job.preview.get("migration") or {}).get("owners", [])):
        chosen = request.POST.get(f"owner-{i}", "")
        if chosen in people:
            options["owners"][owner["key"]] = chosen
    options["fix_dates"] = request.POST.get("fix_dates") == "on"
    pipelines = (job.preview.get("migration") or {}).get("source_pipelines", {})
    if request.POST.get("source_pipeline") in pipelines:
        options["source_pipeline"] = request.POST["source_pipeline"]
    try:
        jobs.set_options(actor=request.user, job=job, options=options)
    except ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("import_job", token=job.token)


@login_required
def import_job(request: HttpRequest, token: str) -> HttpResponse:
    """An import: its progress while a task works (the page polls), then the check's
    result and the button to import, then the outcome."""
    job = _job(request, token)
    context = _job_context(request, job)
    if request.htmx:
        return render(request, "spreadsheets/_job.html", context)
    return render(request, "spreadsheets/job.html", context)


@login_required
@require_post
def import_confirm(request: HttpRequest, token: str) -> HttpResponse:
    job = _job(request, token)
    try:
        jobs.confirm(actor=request.user, job=job)
    except ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("import_job", token=job.token)


@login_required
def import_errors(request: HttpRequest, token: str) -> FileResponse:
    job = _job(request, token)
    # In the page's language (a job checked before both were written: its importer's).
    path = jobs.errors_path(job, get_language())
    if not path.exists():
        path = Path(f"{job.path}.errors.csv")
    if not job.error_count or not path.exists():
        raise Http404(_("There are no errors to download."))
    return FileResponse(
        open(path, "rb"), as_attachment=True, filename=f"{Path(job.name).stem}.errors.csv"
    )


@login_required
def export_view(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    """Download what the user may see, in the import format."""
    if kind not in KINDS or fmt not in ("csv", "xlsx"):
        raise Http404
    # From the deal list: exactly the deals it shows (its filters are in the query string).
    listed = (
        ListFilters.parse(request.GET, request.user).apply(request.user) if request.GET else None
    )
    # In the user's language: zh-Hans headers and words the importer reads, or the codes.
    header, data = rows(kind, request.user, deals=listed, language=get_language())
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel needs the BOM to read UTF-8
        write_csv(header, data, buffer)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
            write_xlsx(header, data, Path(handle.name))
            content = Path(handle.name).read_bytes()
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="loudou-{kind}.{fmt}"'
    return response
