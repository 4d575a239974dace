"""Web import (upload, preview, dry run, confirm) and export downloads."""

import io
import secrets
import shutil
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
from django.views.decorators.http import require_POST

from loudou.pipelines.models import Pipeline

from .columns import Mapping, field_for, field_label
from .export import KINDS, rows, write_csv, write_xlsx
from .reader import FileError, read_table
from .results import error
from .services import ImportFailed, ImportSummary, import_deals

PREVIEW_ROWS = 10
SHOWN_ERRORS = 100


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV or XLSX file"))
    pipeline = forms.ModelChoiceField(
        label=gettext_lazy("Pipeline"),
        queryset=Pipeline.objects.all(),
        required=False,
        empty_label=gettext_lazy("Default pipeline"),
    )
    create_owners = forms.BooleanField(
        label=gettext_lazy("Create unknown owners and teams (administrators)"), required=False
    )


def _require_importer(request: HttpRequest) -> None:
    if not (request.user.is_loudou_admin or request.user.is_manager):
        raise PermissionDenied(_("Only managers and administrators can import."))


def _upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pending(request: HttpRequest) -> dict[str, Any]:
    pending = request.session.get("loudou_import")
    if not pending or not Path(pending["path"]).exists():
        raise Http404(_("No import is waiting; upload the file again."))
    return pending


def _run(request: HttpRequest, pending: dict[str, Any], *, dry_run: bool) -> ImportSummary:
    pipeline = Pipeline.objects.filter(pk=pending["pipeline"]).first()
    try:
        return import_deals(
            path=Path(pending["path"]),
            actor=request.user,
            lang=get_language(),
            dry_run=dry_run,
            create_owners=pending["create_owners"] and request.user.is_loudou_admin,
            pipeline=pipeline.key if pipeline else None,
        )
    except ImportFailed as failed:
        return failed.summary
    except FileError as exc:  # found while reading (a bad line, a workbook over the limits)
        summary = ImportSummary(dry_run=dry_run)
        summary.errors.append(error(1, "", "", exc.zh, exc.en))
        return summary


@login_required
def import_deals_view(request: HttpRequest) -> HttpResponse:
    """Step 1: upload. Step 2 (same page, after upload): preview and dry-run result."""
    _require_importer(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        if suffix not in (".csv", ".xlsx", ".xls", ".tsv", ".txt"):
            messages.error(request, _("Upload a .csv or .xlsx file."))
            return render(request, "spreadsheets/import.html", {"form": form})
        path = _upload_dir() / f"{secrets.token_hex(12)}{suffix}"
        with open(path, "wb") as handle:
            shutil.copyfileobj(upload, handle)
        pipeline = form.cleaned_data["pipeline"]
        request.session["loudou_import"] = {
            "path": str(path),
            "name": upload.name,
            "pipeline": pipeline.pk if pipeline else None,
            "create_owners": form.cleaned_data["create_owners"],
        }
        return redirect("import_preview")
    return render(request, "spreadsheets/import.html", {"form": form})


@login_required
def import_preview(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    pending = _pending(request)
    try:
        table = read_table(Path(pending["path"]))
    except FileError as exc:
        messages.error(request, exc.zh if get_language().startswith("zh") else exc.en)
        return redirect("import_deals")
    mapping = Mapping()
    lang = get_language()
    detected = []
    for header in table.header:
        field = field_for(header, mapping)
        detected.append((header, field_label(field, lang) if field else None))
    preview = []
    try:
        for _number, row in table.rows:
            preview.append(row)
            if len(preview) >= PREVIEW_ROWS:
                break
    except FileError:
        pass  # the check below reports it, with the rest
    summary = _run(request, pending, dry_run=True)
    return render(
        request,
        "spreadsheets/preview.html",
        {
            "name": pending["name"],
            "detected": detected,
            "header": table.header,
            "preview": preview,
            "summary": summary,
            "errors": [
                (e.row, e.column, e.value, e.message(lang)) for e in summary.errors[:SHOWN_ERRORS]
            ],
            "more_errors": max(0, len(summary.errors) - SHOWN_ERRORS),
        },
    )


@login_required
@require_POST
def import_confirm(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    pending = _pending(request)
    summary = _run(request, pending, dry_run=False)
    if summary.errors:
        messages.error(request, _("Nothing was imported: the file has errors."))
        return redirect("import_preview")
    Path(pending["path"]).unlink(missing_ok=True)
    del request.session["loudou_import"]
    messages.success(
        request,
        _(
            "Imported %(rows)d rows: %(created)d deals created, %(updated)d updated, "
            "%(events)d stage changes added."
        )
        % {
            "rows": summary.rows,
            "created": summary.created,
            "updated": summary.updated,
            "events": summary.events_added,
        },
    )
    return redirect("deal_list")


@login_required
def import_errors(request: HttpRequest) -> FileResponse:
    _require_importer(request)
    pending = _pending(request)
    path = Path(f"{pending['path']}.errors.csv")
    if not path.exists():
        raise Http404(_("There are no errors to download."))
    return FileResponse(
        open(path, "rb"), as_attachment=True, filename=f"{Path(pending['name']).stem}.errors.csv"
    )


@login_required
def export_view(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    """Download what the user may see, in the import format."""
    if kind not in KINDS or fmt not in ("csv", "xlsx"):
        raise Http404
    header, data = rows(kind, request.user)
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
