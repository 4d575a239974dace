"""HubSpot: the deals export (CRM → Deals → Export, all properties), with its
'Date entered "<stage> (<pipeline>)"' columns as the stage history, plus the companies
and contacts exports when present. Files are found by their headers (HubSpot names them
by date). Times are in the portal's time zone, written without one."""

import polars as pl

from .source import (
    DEAL_SCHEMA,
    Columns,
    Export,
    Source,
    contacts_of,
    flag,
    fraction_to_percent,
    history_from_entered,
    percent,
    read_frame,
)

DEALS_FILES = "the deals export (Record ID, Deal Name, Deal Stage …)"
ENTERED = r"^date entered\s+(.+)$"
# Derived by HubSpot from the stage dates, or bookkeeping: listed as ignored.
IGNORED_PREFIXES = ("date exited", "cumulative time in", "latest time in", "time in ")
IGNORED = (
    "Last Modified Date",
    "Last Activity Date",
    "Next Activity Date",
    "Recent Sales Email Replied Date",
    "Weighted amount",
    "Forecast amount",
    "Amount in company currency",
    "Annual contract value",
    "Annual recurring revenue",
    "Total contract value",
    "Monthly recurring revenue",
    "Days to close",
    "Deal Stage Probability",
    "Forecast category",
    "Forecast probability",
    "Is Open (numeric)",
    "Is Closed (numeric)",
    "Is closed won",
    "Is Deal Closed?",
    "Deal Type",
    "Deal Description",
    "Next step",
    "Last Contacted",
    "Date of last meeting booked in meetings tool",
    "Associated Company IDs",
    "Associated Contact IDs",
    "Associated Contact",
    "Pipeline",
    "Closed Won Reason",
)


def read(export: Export, ignore: set[str]) -> Source | None:
    path = export.with_headers("Deal Name", "Deal Stage")
    if path is None:
        return None
    raw = read_frame(path)
    cols = Columns(path.name, raw, ignore)
    external = cols.col("external_id", "Record ID", "Deal ID")
    history, order = history_from_entered(raw, cols, external, ENTERED)
    stage = cols.col("stage", "Deal Stage")
    deals = raw.select(
        row=pl.col("__row"),
        external_id=external,
        name=cols.col("name", "Deal Name"),
        account=cols.col(
            "account", "Associated Company (Primary)", "Associated Company", "Company name"
        ),
        owner=cols.col("owner", "Deal owner", "Deal Owner", "HubSpot Owner"),
        stage=stage,
        # The columns' order is no stated order (HubSpot does not promise one): a hint.
        stage_order=pl.lit(None, pl.Float64),
        probability=fraction_to_percent(
            percent(cols.col("probability", "Deal probability", "Deal Stage Probability"))
        ),
        amount=cols.col("amount", "Amount"),
        currency=cols.col("currency", "Deal currency code", "Currency"),
        created_at=cols.col("created_at", "Create Date", "Created Date"),
        close_date=cols.col("close_date", "Close Date"),
        closed_at=pl.lit(None, pl.String),
        closed=flag(cols.col("closed", "Is Deal Closed?", "Is Closed")),
        won=flag(cols.col("won", "Is closed won", "Is Closed Won")),
        source=cols.col("source", "Original Source Type", "Original Source", "Deal source"),
        lost_reason=cols.col("lost_reason", "Closed Lost Reason"),
        last_changed_at=cols.col("last_changed_at", "Last Modified Date"),
        pipeline=cols.col("pipeline", "Pipeline"),
    ).cast(DEAL_SCHEMA)
    for header in raw.columns:
        if header.lower().startswith(IGNORED_PREFIXES) and header not in cols.report.mapped:
            cols.report.ignored.append(header)
    cols.known(*IGNORED)
    source = Source(
        vendor="hubspot", deals_file=path.name, deals=deals, files=[path.name], naive_tz=None
    )
    source.listed_stages = {label: float(place) for label, place in order.items()}
    source.columns.append(cols.finish())
    if history.height:
        source.history, source.history_file = history, path.name

    companies = export.with_headers("Company name", skip=(path,))
    if companies is not None:
        frame = read_frame(companies)
        ccols = Columns(companies.name, frame, set())
        for key, name in frame.select(
            ccols.col("key", "Record ID"), ccols.col("name", "Company name")
        ).iter_rows():
            if key and name:
                source.accounts[key] = name
        source.files.append(companies.name)
    people = export.with_headers("First Name", "Email", skip=(path,))
    if people is not None:
        frame = read_frame(people)
        pcols = Columns(people.name, frame, set())
        name = pl.concat_str(
            [pcols.col("first", "First Name"), pcols.col("last", "Last Name")],
            separator=" ",
            ignore_nulls=True,
        )
        account = pcols.col("account", "Associated Company", "Company Name", "Company")
        source.contacts = contacts_of(frame, pcols, account, name)
        source.files.append(people.name)
    return source
