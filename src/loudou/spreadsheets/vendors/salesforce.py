"""Salesforce Data Export (Setup → Data Export, or Data Loader): CSV files named after
objects, headers are API field names, times in UTC ("2024-03-05T10:20:30.000Z").

Read: Opportunity.csv (the deals), OpportunityHistory.csv (one row per change of stage,
amount, probability or close date: the stage history), User.csv (owners by Id),
Account.csv (accounts by Id), Contact.csv, OpportunityContactRole.csv (the contacts of
each opportunity, one primary), Task.csv and Event.csv (activities whose WhatId is an
opportunity). Rows with IsDeleted = true are left out (and counted)."""

from pathlib import Path

import polars as pl

from .source import (
    ACTIVITY_SCHEMA,
    CONTACT_ROLE_SCHEMA,
    DEAL_SCHEMA,
    HISTORY_SCHEMA,
    Columns,
    Export,
    Source,
    SourceUser,
    flag,
    percent,
    read_frame,
)

# Read knowingly as nothing: derived by Salesforce or bookkeeping (listed as ignored).
OPPORTUNITY_IGNORED = (
    "IsDeleted",
    "ExpectedRevenue",
    "FiscalQuarter",
    "FiscalYear",
    "Fiscal",
    "ForecastCategory",
    "ForecastCategoryName",
    "SystemModstamp",
    "LastViewedDate",
    "LastReferencedDate",
    "LastActivityDate",
    "LastActivityInDays",
    "LastStageChangeInDays",
    "LastModifiedById",
    "CreatedById",
    "HasOpenActivity",
    "HasOverdueTask",
    "HasOpportunityLineItem",
    "PushCount",
    "LastAmountChangedHistoryId",
    "LastCloseDateChangedHistoryId",
    "TotalOpportunityQuantity",
    "Pricebook2Id",
    "CampaignId",
    "ContactId",
    "SyncedQuoteId",
    "ContractId",
    "AgeInDays",
    "LastModifiedDate",
    "LastStageChangeDate",
)
# OpportunityContactRole's bookkeeping (listed as ignored).
CONTACT_ROLE_IGNORED = (
    "Id",
    "CreatedById",
    "CreatedDate",
    "LastModifiedById",
    "LastModifiedDate",
    "SystemModstamp",
)
HISTORY_IGNORED = (
    "Id",
    "IsDeleted",
    "Amount",
    "ExpectedRevenue",
    "CloseDate",
    "ForecastCategory",
    "SystemModstamp",
    "PrevAmount",
    "PrevCloseDate",
    "CurrencyIsoCode",
)


def read(export: Export, ignore: set[str]) -> Source | None:
    """The export as a ``Source``; None when it has no Opportunity file."""
    path = export.find("opportunity") or export.with_headers("StageName", "IsWon", "CloseDate")
    if path is None:
        return None
    raw = read_frame(path)
    cols = Columns(path.name, raw, ignore)
    deleted = flag(cols.col("deleted", "IsDeleted")).fill_null(False)
    cols.report.mapped.pop(cols.find("deleted", "IsDeleted") or "", None)
    total = raw.height
    raw = raw.filter(~deleted)
    deals = raw.select(
        row=pl.col("__row"),
        external_id=cols.col("external_id", "Id"),
        name=cols.col("name", "Name"),
        account=cols.col("account", "AccountId"),
        owner=cols.col("owner", "OwnerId"),
        stage=cols.col("stage", "StageName"),
        stage_order=cols.col("stage_order", "StageSortOrder", dtype=pl.Float64),
        probability=percent(cols.col("probability", "Probability")),
        amount=cols.col("amount", "Amount"),
        currency=cols.col("currency", "CurrencyIsoCode"),
        created_at=cols.col("created_at", "CreatedDate"),
        close_date=cols.col("close_date", "CloseDate"),
        closed_at=pl.lit(None, pl.String),
        closed=flag(cols.col("closed", "IsClosed")),
        won=flag(cols.col("won", "IsWon")),
        source=cols.col("source", "LeadSource"),
        lost_reason=cols.col("lost_reason", "Loss_Reason__c", "LossReason", "Reason_Lost__c"),
        last_changed_at=cols.col("last_changed_at", "LastStageChangeDate", "LastModifiedDate"),
        pipeline=pl.lit(None, pl.String),
    ).cast(DEAL_SCHEMA)
    cols.known(*OPPORTUNITY_IGNORED, "Type", "Description", "NextStep", "IsPrivate")
    source = Source(
        vendor="salesforce",
        deals_file=path.name,
        deals=deals,
        naive_tz="UTC",
        files=[path.name],
    )
    source.skipped = total - raw.height
    source.columns.append(cols.finish())

    history_path = export.find("opportunityhistory")
    if history_path is not None:
        raw = read_frame(history_path)
        hcols = Columns(history_path.name, raw, ignore)
        deleted = flag(hcols.col("deleted", "IsDeleted")).fill_null(False)
        hcols.report.mapped.pop(hcols.find("deleted", "IsDeleted") or "", None)
        source.history = (
            raw.filter(~deleted)
            .select(
                row=pl.col("__row"),
                external_id=hcols.col("external_id", "OpportunityId"),
                stage=hcols.col("stage", "StageName"),
                at=hcols.col("at", "CreatedDate"),
                by=hcols.col("by", "CreatedById"),
                probability=percent(hcols.col("probability", "Probability")),
            )
            .cast(HISTORY_SCHEMA)
        )
        hcols.known(*HISTORY_IGNORED)
        source.history_file = history_path.name
        source.columns.append(hcols.finish())
        source.files.append(history_path.name)

    field_path = export.find("opportunityfieldhistory") if history_path is None else None
    if field_path is not None:
        _field_history(source, field_path, ignore)

    users_path = export.find("user")
    if users_path is not None:
        frame = read_frame(users_path)
        ucols = Columns(users_path.name, frame, set())
        for row in frame.select(
            key=ucols.col("key", "Id"),
            username=ucols.col("username", "Username"),
            email=ucols.col("email", "Email"),
            name=ucols.col("name", "Name"),
            first=ucols.col("first", "FirstName"),
            last=ucols.col("last", "LastName"),
            active=flag(ucols.col("active", "IsActive")),
        ).iter_rows(named=True):
            if row["key"]:
                name = row["name"] or " ".join(x for x in (row["first"], row["last"]) if x)
                source.users[row["key"]] = SourceUser(
                    row["key"],
                    row["username"] or "",
                    row["email"] or "",
                    name,
                    row["active"] is not False,
                )
        source.files.append(users_path.name)

    accounts_path = export.find("account")
    if accounts_path is not None:
        frame = read_frame(accounts_path)
        acols = Columns(accounts_path.name, frame, set())
        for key, name in frame.select(
            acols.col("key", "Id"), acols.col("name", "Name")
        ).iter_rows():
            if key and name:
                source.accounts[key] = name
        source.files.append(accounts_path.name)
    # Accounts by id; an id the Account file does not name stays as written (an id).
    source.deals = source.deals.with_columns(
        account=pl.col("account").replace(source.accounts) if source.accounts else "account"
    )

    contacts_path = export.find("contact")
    if contacts_path is not None:
        frame = read_frame(contacts_path)
        ccols = Columns(contacts_path.name, frame, set())
        for row in frame.select(
            key=ccols.col("key", "Id"),
            account=ccols.col("account", "AccountId"),
            name=ccols.col("name", "Name"),
            first=ccols.col("first", "FirstName"),
            last=ccols.col("last", "LastName"),
            title=ccols.col("title", "Title"),
            email=ccols.col("email", "Email"),
            phone=ccols.col("phone", "Phone"),
        ).iter_rows(named=True):
            account = source.accounts.get(row["account"] or "")
            name = row["name"] or " ".join(x for x in (row["first"], row["last"]) if x)
            if account and name:
                source.contacts.append(
                    {
                        "key": row["key"] or "",
                        "account": account,
                        "name": name,
                        "title": row["title"] or "",
                        "email": row["email"] or "",
                        "phone": row["phone"] or "",
                    }
                )
        source.files.append(contacts_path.name)

    roles_path = export.find("opportunitycontactrole")
    if roles_path is not None:
        _contact_roles(source, roles_path, ignore)

    activities = []
    for name, kind in (("task", "task"), ("event", "event")):
        activity_path = export.find(name)
        if activity_path is None:
            continue
        frame = read_frame(activity_path)
        tcols = Columns(activity_path.name, frame, set())
        subtype = tcols.col("type", "TaskSubtype", "Type").str.to_lowercase()
        activity_type = (
            pl.lit("meeting")
            if kind == "event"
            else pl.when(subtype.str.contains("call"))
            .then(pl.lit("call"))
            .when(subtype.str.contains("email"))
            .then(pl.lit("email"))
            .otherwise(pl.lit("note"))
        )
        when = (
            pl.coalesce(
                tcols.col("at", "StartDateTime"),
                tcols.col("at", "ActivityDateTime"),
                tcols.col("at", "CreatedDate"),
            )
            if kind == "event"
            else pl.coalesce(tcols.col("at", "ActivityDate"), tcols.col("at", "CreatedDate"))
        )
        activities.append(
            frame.select(
                row=pl.col("__row"),
                external_id=tcols.col("external_id", "WhatId"),
                type=activity_type,
                at=when,
                note=tcols.col("note", "Subject"),
                by=tcols.col("by", "OwnerId"),
            ).cast(ACTIVITY_SCHEMA)
        )
        source.files.append(activity_path.name)
    if activities:
        opportunity_ids = source.deals.get_column("external_id")
        source.activities = pl.concat(activities).filter(
            pl.col("external_id").is_in(opportunity_ids.implode())
        )
        source.activities_file = "Task.csv/Event.csv"
    return source


DEALS_FILES = "Opportunity.csv"


def _contact_roles(source: Source, path: Path, ignore: set[str]) -> None:
    """OpportunityContactRole: OpportunityId, ContactId, Role, IsPrimary (rows the source
    marks deleted left out, and counted)."""
    raw = read_frame(path)
    cols = Columns(path.name, raw, ignore)
    deleted = flag(cols.col("deleted", "IsDeleted")).fill_null(False)
    cols.report.mapped.pop(cols.find("deleted", "IsDeleted") or "", None)
    kept = raw.filter(~deleted)
    source.contact_roles_deleted = raw.height - kept.height
    source.contact_roles = kept.select(
        row=pl.col("__row"),
        external_id=cols.col("external_id", "OpportunityId"),
        contact=cols.col("contact", "ContactId"),
        role=cols.col("role", "Role"),
        primary=flag(cols.col("primary", "IsPrimary")).fill_null(False),
    ).cast(CONTACT_ROLE_SCHEMA)
    cols.known("IsDeleted", *CONTACT_ROLE_IGNORED)
    source.contact_roles_file = path.name
    source.columns.append(cols.finish())
    source.files.append(path.name)


def _field_history(source: Source, path: Path, ignore: set[str]) -> None:
    """Without OpportunityHistory, the stage changes tracked by field history
    (OpportunityFieldHistory: Field = StageName, OldValue, NewValue, CreatedDate): the first
    change's old value is the stage the deal was created in."""
    raw = read_frame(path)
    cols = Columns(path.name, raw, ignore)
    field = cols.col("field", "Field")
    changes = raw.filter(field.str.to_lowercase() == "stagename").select(
        row=pl.col("__row"),
        external_id=cols.col("external_id", "OpportunityId"),
        old=cols.col("old", "OldValue"),
        stage=cols.col("stage", "NewValue"),
        at=cols.col("at", "CreatedDate"),
        by=cols.col("by", "CreatedById"),
    )
    first = (
        changes.sort("at")
        .group_by("external_id", maintain_order=True)
        .first()
        .join(source.deals.select("external_id", "created_at"), on="external_id")
        .select("row", "external_id", stage="old", at="created_at", by=pl.lit(None, pl.String))
    )
    source.history = (
        pl.concat([first, changes.drop("old")], how="vertical_relaxed")
        .with_columns(probability=pl.lit(None, pl.Float64))
        .cast(HISTORY_SCHEMA)
    )
    cols.known("Id", "IsDeleted", "DataType", "Field")
    source.history_file = path.name
    source.columns.append(cols.finish())
    source.files.append(path.name)
