"""Zoho CRM: the Deals export (Setup → Data Administration → Export, or the module's
Export: "Record Id", "Deal Owner", "Deal Name", "Stage", "Closing Date", "Probability (%)",
"Created Time" …), plus the Stage History export (one row per stage change: the deal's
id, "Stage", "Modified Time", "Modified By") and Accounts/Contacts when present. Closed
Won / Closed Lost (and 'Closed Lost to Competition') are the outcomes; times are in the
exporting user's time zone, written without one."""

import polars as pl

from .source import (
    DEAL_SCHEMA,
    HISTORY_SCHEMA,
    Columns,
    Export,
    Source,
    contacts_of,
    percent,
    read_frame,
)

DEALS_FILES = "Deals (Record Id, Deal Name, Stage, Closing Date …)"
IGNORED = (
    "Expected Revenue",
    "Modified Time",
    "Modified By",
    "Created By",
    "Last Activity Time",
    "Sales Cycle Duration",
    "Overall Sales Duration",
    "Lead Conversion Time",
    "Change Log Time",
    "Locked",
    "Type",
    "Next Step",
    "Description",
    "Contact Name",
    "Campaign Source",
    "Tag",
    "Exchange Rate",
)
HISTORY_IGNORED = ("Amount", "Expected Revenue", "Closing Date", "Duration (days)", "Record Id")


def _stage_kind(stage: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    text = stage.str.to_lowercase().str.replace_all(r"[-_]", " ")
    won = text.str.starts_with("closed won")
    lost = text.str.starts_with("closed lost")
    return won | lost, won


def read(export: Export, ignore: set[str]) -> Source | None:
    path = export.with_headers("Deal Name", "Stage", "Closing Date")
    if path is None:
        return None
    raw = read_frame(path)
    cols = Columns(path.name, raw, ignore)
    stage = cols.col("stage", "Stage")
    closed, won = _stage_kind(stage)
    deals = raw.select(
        row=pl.col("__row"),
        external_id=cols.col("external_id", "Record Id", "Deal Id", "Id"),
        name=cols.col("name", "Deal Name"),
        account=cols.col("account", "Account Name"),
        owner=cols.col("owner", "Deal Owner"),
        stage=stage,
        stage_order=pl.lit(None, pl.Float64),
        probability=percent(cols.col("probability", "Probability (%)", "Probability")),
        amount=cols.col("amount", "Amount"),
        currency=cols.col("currency", "Currency"),
        created_at=cols.col("created_at", "Created Time"),
        close_date=cols.col("close_date", "Closing Date"),
        closed_at=pl.lit(None, pl.String),
        closed=closed,
        won=won,
        source=cols.col("source", "Lead Source"),
        lost_reason=cols.col("lost_reason", "Reason For Loss", "Reason For Loss__s"),
        last_changed_at=pl.lit(None, pl.String),
        pipeline=cols.col("pipeline", "Pipeline", "Layout"),
    ).cast(DEAL_SCHEMA)
    cols.known(*IGNORED)
    source = Source(vendor="zoho", deals_file=path.name, deals=deals, files=[path.name])
    source.columns.append(cols.finish())
    history = export.with_headers("Stage", "Modified Time", skip=(path,))
    if history is not None:
        frame = read_frame(history)
        hcols = Columns(history.name, frame, ignore)
        source.history = frame.select(
            row=pl.col("__row"),
            external_id=hcols.col("external_id", "Deal Id", "Parent Id", "Deal", "Deal Name.id"),
            stage=hcols.col("stage", "Stage"),
            at=hcols.col("at", "Modified Time", "Last Modified Time"),
            by=hcols.col("by", "Modified By"),
            probability=percent(hcols.col("probability", "Probability (%)", "Probability")),
        ).cast(HISTORY_SCHEMA)
        hcols.known(*HISTORY_IGNORED, "Deal Name")
        source.history_file = history.name
        source.columns.append(hcols.finish())
        source.files.append(history.name)
    contacts = export.with_headers("Last Name", "Account Name", skip=(path,))
    if contacts is not None:
        frame = read_frame(contacts)
        ccols = Columns(contacts.name, frame, set())
        name = pl.concat_str(
            [ccols.col("first", "First Name"), ccols.col("last", "Last Name")],
            separator=" ",
            ignore_nulls=True,
        )
        source.contacts = contacts_of(frame, ccols, ccols.col("account", "Account Name"), name)
        source.files.append(contacts.name)
    return source
