"""The web side of a migration (the import page's "from Salesforce…"): running it for an
``ImportJob`` and what its preview keeps (stages with their proposed mapping, owners,
columns, date problems), which the page shows and lets the user edit."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .labels import column_label, headers_by_key, meaning_label
from .migrate import MigrationSummary, migrate

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..models import ImportJob

SHOWN_PROBLEMS = 100  # of the rows left out, the page lists as many

LABELS = {
    "salesforce": "Salesforce",
    "hubspot": "HubSpot",
    "pipedrive": "Pipedrive",
    "zoho": "Zoho CRM",
    "chinese": "销售易 / 纷享销客 / 悟空CRM",
}


def run(job: "ImportJob", *, dry_run: bool, progress: "Callable[[int, float], None]") -> Any:
    """Migrate the job's upload with the options chosen on its preview."""
    options = job.options or {}
    return migrate(
        vendor=job.vendor,
        path=Path(job.path),
        actor=job.user,
        lang=job.lang,
        dry_run=dry_run,
        create_owners=job.create_owners,
        stages=dict(options.get("stages") or {}),
        mirror_pipeline=options.get("mirror") or None,
        pipeline=job.pipeline.key if job.pipeline else None,
        fix_dates=bool(options.get("fix_dates")),
        ignore=list(options.get("ignore") or []),
        owner_map=dict(options.get("owners") or {}),
        source_pipeline=options.get("source_pipeline") or None,
        progress=progress,
        via="web",
    )


def preview(summary: MigrationSummary) -> dict[str, Any]:
    """What the job page shows of a migration's check (JSON)."""
    return {
        "deals_file": summary.deals_file,
        "files": summary.files,
        "unread_files": summary.unread_files,
        "pipeline": summary.pipeline,
        "stages": [s.as_dict() for s in summary.stages],
        "owners": [o.as_dict() for o in summary.owners],
        "columns": [
            {"file": c.file, "mapped": c.mapped, "ignored": c.ignored, "unknown": c.unknown}
            for c in summary.columns
        ],
        "date_problems": len(summary.date_problems),
        "dates_fixed": summary.dates_fixed,
        "skipped": summary.skipped,
        "source_pipelines": summary.source_pipelines,
        "other_pipelines": summary.other_pipelines,
        "orphans": summary.orphans,
        "contacts": summary.contacts_created,
        "contact_roles": {
            "rows": summary.contact_roles,
            "deleted": summary.contact_roles_deleted,
            "primary": summary.primary_contacts,
            "decision_makers": summary.decision_makers,
            "left_out": len(summary.contact_role_problems),
            "problems": [
                [p.row, p.column, p.value[:200], p.zh, p.en]
                for p in summary.contact_role_problems[:SHOWN_PROBLEMS]
            ],
        },
        "activities": summary.activities_created,
    }


def shown(migration: dict[str, Any], lang: str) -> dict[str, Any]:
    """The preview as the page shows it, in ``lang``: what each column is read as by its
    label (the key kept beside it), where each stage goes by its name, each owner by the
    user's display name. (A preview saved before a field existed shows what it has.)"""
    zh = lang.lower().startswith("zh")
    deals_file = migration.get("deals_file") or next(iter(migration.get("files") or []), "")
    out = dict(migration)
    out["columns"] = [
        {
            **report,
            "read": [
                (header, meaning_label(key, lang, deals_file=report["file"] == deals_file), key)
                for header, key in report["mapped"].items()
            ],
        }
        for report in migration.get("columns", [])
    ]
    stages = []
    for stage in migration.get("stages", []):
        names = stage.get("target_names")
        stages.append({**stage, "target_name": names[0 if zh else 1] if names else ""})
    out["stages"] = stages
    out["owners"] = [
        {**owner, "user_name": owner.get("user_name") or owner.get("user")}
        for owner in migration.get("owners", [])
    ]
    return out


def problem_column(column: str, lang: str, migration: dict[str, Any]) -> str:
    """A problem's column as the page shows it (labels.column_label)."""
    headers = headers_by_key(migration.get("columns", []))
    return column_label(column, lang, headers, migration.get("deals_file", ""))
