"""Pipedrive: the deals export (Deals → … → Export, "Deal - " headers, or plain ones when
exported alone), plus the organizations and persons exports when present. Pipedrive's
export holds no stage history: each deal starts in its stage at its creation, then is won
or lost at its won or lost time. Deleted deals are left out (and counted)."""

import polars as pl

from .source import DEAL_SCHEMA, Columns, Export, Source, contacts_of, percent, read_frame

DEALS_FILES = "the deals export (Deal - ID, Deal - Title, Deal - Stage …)"
IGNORED = (
    "Deal - Weighted value",
    "Deal - Next activity date",
    "Deal - Last activity date",
    "Deal - Last email received",
    "Deal - Last email sent",
    "Deal - Update time",
    "Deal - Close time",
    "Deal - Pipeline",
    "Deal - Status",
    "Deal - Contact person",
    "Deal - Visible to",
    "Deal - Label",
    "Deal - Total activities",
    "Deal - Done activities",
    "Deal - Activities to do",
    "Deal - Email messages count",
    "Deal - Product quantity",
    "Deal - Product amount",
    "Deal - Products",
    "Deal - First won time",
    "Deal - Creator",
    "Deal - Archive time",
    "Deal - Archive status",
)


def _c(*names: str) -> tuple[str, ...]:
    """'Deal - Title' and its plain form 'Title' (a single-object export)."""
    return tuple(x for n in names for x in (f"Deal - {n}", n))


def read(export: Export, ignore: set[str]) -> Source | None:
    path = export.with_headers("Deal - Title") or export.with_headers("Title", "Stage", "Status")
    if path is None:
        return None
    raw = read_frame(path)
    cols = Columns(path.name, raw, ignore)
    status = cols.col("status", *_c("Status")).str.to_lowercase()
    total = raw.height
    raw = raw.filter(status.fill_null("open") != "deleted")
    deals = raw.select(
        row=pl.col("__row"),
        external_id=cols.col("external_id", *_c("ID")),
        name=cols.col("name", *_c("Title")),
        account=cols.col("account", *_c("Organization")),
        owner=cols.col("owner", *_c("Owner")),
        stage=cols.col("stage", *_c("Stage")),
        stage_order=pl.lit(None, pl.Float64),
        probability=percent(cols.col("probability", *_c("Probability"))),
        amount=cols.col("amount", *_c("Value")),
        currency=cols.col("currency", *_c("Currency")),
        created_at=cols.col("created_at", *_c("Deal created", "Add time")),
        close_date=cols.col("close_date", *_c("Expected close date")),
        closed_at=pl.coalesce(
            cols.col("won_time", *_c("Won time")), cols.col("lost_time", *_c("Lost time"))
        ),
        closed=status.is_in(["won", "lost"]),
        won=status == "won",
        source=cols.col("source", *_c("Source channel", "Source origin", "Source")),
        lost_reason=cols.col("lost_reason", *_c("Lost reason")),
        last_changed_at=cols.col("last_changed_at", *_c("Last stage change")),
        pipeline=cols.col("pipeline", *_c("Pipeline")),
    ).cast(DEAL_SCHEMA)
    cols.known(*IGNORED, *(n.removeprefix("Deal - ") for n in IGNORED))
    source = Source(
        vendor="pipedrive",
        deals_file=path.name,
        deals=deals,
        files=[path.name],
        skipped=total - raw.height,
        outcome_stages=False,
    )
    # Expected close dates are dates; won and lost times are the closing times.
    source.columns.append(cols.finish())
    organizations = export.with_headers("Organization - Name", skip=(path,))
    if organizations is not None:
        source.files.append(organizations.name)  # deals name their organization already
    persons = export.with_headers("Person - Name", skip=(path,))
    if persons is not None:
        frame = read_frame(persons)
        pcols = Columns(persons.name, frame, set())
        source.contacts = contacts_of(
            frame,
            pcols,
            pcols.col("account", "Person - Organization"),
            pcols.col("name", "Person - Name"),
        )
        source.files.append(persons.name)
    return source
