"""The SQL that loads report frames: plain, portable (SQLite and PostgreSQL alike), and
free of Django so that the SQLite reader child process can import it cheaply."""

QUERIES = {
    "pipelines": "SELECT id, key, is_default FROM pipelines_pipeline",
    "deals": (
        "SELECT id, owner_id, team_id, pipeline_id, stage_id, status, "
        # Never-null expressions: connectorx types SQLite expressions from their first value.
        "CAST(ROUND(COALESCE(amount, 0) * 100) AS BIGINT) AS amount_cents, "
        "CASE WHEN amount IS NULL THEN 1 ELSE 0 END AS no_amount, currency, "
        "expected_close_date, created_at, closed_at, source, forecast_category, updated_at, "
        "stage_entered_at, last_activity_at FROM deals_deal"
    ),
    "events": "SELECT id, deal_id, from_stage_id, to_stage_id, at FROM deals_stageevent",
    "stages": (
        "SELECT id, pipeline_id, key, kind, position, CAST(probability AS TEXT) AS probability, "
        "forecast_category, rot_days, name_zh, name_en FROM pipelines_stage"
    ),
    "users": "SELECT id, username, team_id FROM people_user",
    "teams": "SELECT id, name FROM people_team",
}
# Big tables are read in two partitions (two cores) by id.
PARTITIONED = {"deals", "events"}
