"""The SQL that loads report frames, free of Django so that the SQLite reader child
process can import it cheaply. Only ``last_touch`` differs between databases."""

import polars as pl

from loudou.core.db import epoch_us_of_latest_sql

# Big tables are read in two partitions (two cores) by id.
PARTITIONED = {"deals", "events", "activities"}


def queries(vendor: str) -> dict[str, str]:
    last_touch = epoch_us_of_latest_sql(
        vendor, "stage_entered_at", "updated_at", "last_activity_at"
    )
    return {
        "pipelines": "SELECT id, key, is_default FROM pipelines_pipeline",
        "deals": (
            "SELECT id, owner_id, team_id, pipeline_id, stage_id, status, "
            # Never-null expressions: connectorx types SQLite expressions by their first value.
            "CAST(ROUND(COALESCE(amount, 0) * 100) AS BIGINT) AS amount_cents, "
            "CASE WHEN amount IS NULL THEN 1 ELSE 0 END AS no_amount, "
            # created_at and closed_at are the times of the creation and closing events:
            # reports take them from the events rather than parse two more timestamps.
            "expected_close_date, source, forecast_category, "
            f"{last_touch} AS last_touch_us FROM deals_deal"
        ),
        "events": (
            "SELECT id, deal_id, from_stage_id, to_stage_id, at, "
            "CASE WHEN override_reason <> '' THEN 1 ELSE 0 END AS forced, "
            # 0/1 on both databases (SQLite stores booleans as integers anyway).
            "CASE WHEN imported THEN 1 ELSE 0 END AS imported FROM deals_stageevent"
        ),
        "stages": (
            "SELECT id, pipeline_id, key, kind, position, "
            "CAST(probability AS TEXT) AS probability, forecast_category, rot_days, name_zh, "
            "name_en FROM pipelines_stage"
        ),
        # name: the display name as User.__str__ makes it (display name, else full name,
        # else username): reports show people by it and filter by username.
        "users": (
            "SELECT id, username, team_id, COALESCE(NULLIF(display_name, ''), "
            "NULLIF(TRIM(first_name || ' ' || last_name), ''), username) AS name "
            "FROM people_user"
        ),
        "teams": "SELECT id, name FROM people_team",
        "payments": (
            "SELECT id, deal_id, CAST(ROUND(amount * 100) AS BIGINT) AS amount_cents, paid_on "
            "FROM deals_payment"
        ),
        "activities": "SELECT id, deal_id, type, at FROM activities_activity",
        "quotas": (
            "SELECT id, user_id, team_id, period_start, period_end, "
            "CAST(ROUND(amount * 100) AS BIGINT) AS amount_cents FROM people_quota"
        ),
    }


# The tables read again for the deals that changed, and the column naming the deal.
PER_DEAL = {"deals": "id", "events": "deal_id", "payments": "deal_id", "activities": "deal_id"}
# The small tables read again when they changed, by the change records' table names.
SMALL = {"people_user": "users", "people_team": "teams", "people_quota": "quotas"}


def finish_raw(raw: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The raw deals as reports take them: a null amount for the rows that had none (the
    query reads never-null expressions), ``last_touch`` from its integer microseconds."""
    deals = raw.get("deals")
    if deals is not None and "no_amount" in deals.columns:
        raw["deals"] = deals.with_columns(
            pl.when(pl.col("no_amount") == 1)
            .then(None)
            .otherwise(pl.col("amount_cents"))
            .alias("amount_cents"),
            pl.col("last_touch_us").alias("last_touch"),
        )
    return raw
