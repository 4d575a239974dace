"""The DuckDB reference: seven report queries, in memory, on the same data as Loudou.

Loaded from the raw tables (deal columns as stored, not derived from events), so that
agreement also checks the product's derivations. Asia/Shanghai has had no daylight saving
since 1991, so local dates are UTC + 8 hours here (DuckDB's time zone support would need
an extension download).
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb
import pyarrow as pa

SHANGHAI = dt.timedelta(hours=8)

TABLES = {
    "deals": (
        "SELECT id, owner_id, stage_id, status, "
        "CAST(ROUND(COALESCE(amount, 0) * 100) AS BIGINT) AS amount_cents, "
        "CASE WHEN amount IS NULL THEN 1 ELSE 0 END AS no_amount, expected_close_date, "
        "created_at, closed_at, stage_entered_at, updated_at, last_activity_at, "
        "forecast_category FROM deals_deal"
    ),
    "events": "SELECT id, deal_id, from_stage_id, to_stage_id, at FROM deals_stageevent",
    "stages": (
        "SELECT id, key, kind, position, CAST(probability AS TEXT) AS probability, "
        "forecast_category, rot_days FROM pipelines_stage"
    ),
    "payments": (
        "SELECT deal_id, CAST(ROUND(amount * 100) AS BIGINT) AS amount_cents FROM deals_payment"
    ),
}


def connect(tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    for name, table in tables.items():
        con.register(f"raw_{name}", table)
    con.execute("""
        CREATE TABLE deals AS SELECT id, owner_id, stage_id, status,
            CASE WHEN no_amount = 1 THEN NULL ELSE amount_cents END AS amount_cents,
            expected_close_date, created_at::TIMESTAMP AS created_at,
            closed_at::TIMESTAMP AS closed_at, stage_entered_at::TIMESTAMP AS stage_entered_at,
            greatest(stage_entered_at::TIMESTAMP, updated_at::TIMESTAMP,
                     coalesce(last_activity_at::TIMESTAMP, updated_at::TIMESTAMP)) AS last_touch,
            forecast_category
        FROM raw_deals""")
    con.execute("CREATE TABLE payments AS SELECT * FROM raw_payments")
    con.execute(
        "CREATE TABLE events AS SELECT id, deal_id, from_stage_id, to_stage_id, "
        '"at"::TIMESTAMP AS "at" FROM raw_events'
    )
    con.execute("""
        CREATE TABLE stages AS SELECT id, key, kind, position,
            CAST(probability AS DECIMAL(9, 4)) AS probability, forecast_category, rot_days,
            CASE WHEN kind = 'open' THEN row_number() OVER (PARTITION BY kind ORDER BY position)
                 WHEN kind = 'won' THEN (SELECT count(*) FROM raw_stages WHERE kind = 'open') + 1
            END AS idx
        FROM raw_stages""")
    for name in tables:
        con.unregister(f"raw_{name}")
    return con


# Each deal with its max stage (METRICS.md: the highest open stage entered, or n + 1 if it
# was ever won, even if reopened since). Status stays the status now, for the win rates.
MAX_STAGE = """WITH reached AS (
            SELECT e.deal_id, max(s.idx) FILTER (WHERE s.kind = 'open') AS max_open,
                   bool_or(s.kind = 'won') AS ever_won
            FROM events e JOIN stages s ON s.id = e.to_stage_id GROUP BY e.deal_id),
        n AS (SELECT count(*) AS n FROM stages WHERE kind = 'open'),
        deal_max AS (
            SELECT d.*,
                   CASE WHEN r.ever_won THEN (SELECT n + 1 FROM n) ELSE r.max_open END
                       AS max_stage
            FROM deals d JOIN reached r ON r.deal_id = d.id),"""


def _naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def snapshot(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> list[tuple]:
    """Open deals per stage: count, amount (cents), weighted (currency), stale."""
    rows = con.execute(
        """
        SELECT s.key, count(*), sum(d.amount_cents),
               sum(coalesce(d.amount_cents, 0) * s.probability),
               count(*) FILTER (WHERE d.last_touch < ? - to_days(s.rot_days))
        FROM deals d JOIN stages s ON s.id = d.stage_id
        WHERE d.status = 'open' GROUP BY s.key, s.position ORDER BY s.position
    """,
        [_naive(now)],
    ).fetchall()
    return [(k, c, a or 0, _cents(w), st) for k, c, a, w, st in rows]


def funnel_per_rep(
    con: duckdb.DuckDBPyConnection, start: dt.datetime, end: dt.datetime
) -> list[tuple]:
    """Per owner and stage index: reached, amount (cents), open, lost_at."""
    return con.execute(
        f"""
        {MAX_STAGE}
        cohort AS (
            SELECT d.owner_id, d.status, d.amount_cents, cs.idx AS cur, d.max_stage
            FROM deal_max d JOIN stages cs ON cs.id = d.stage_id
            WHERE d.created_at >= ? AND d.created_at < ?)
        SELECT c.owner_id, k.k,
               count(*) FILTER (WHERE c.max_stage >= k.k),
               coalesce(sum(c.amount_cents) FILTER (WHERE c.max_stage >= k.k), 0),
               count(*) FILTER (WHERE c.status = 'open' AND c.cur = k.k),
               count(*) FILTER (WHERE c.status = 'lost' AND c.max_stage = k.k)
        FROM cohort c, (SELECT range AS k FROM range(1, (SELECT n + 2 FROM n))) k
        GROUP BY c.owner_id, k.k ORDER BY c.owner_id, k.k
    """,
        [_naive(start), _naive(end)],
    ).fetchall()


def time_in_stage(
    con: duckdb.DuckDBPyConnection, start: dt.datetime, end: dt.datetime
) -> list[tuple]:
    """Per open stage: completed stays ended in [start, end): count, mean, median, p90."""
    return con.execute(
        """
        WITH ordered AS (
            SELECT e.to_stage_id, e.at,
                   lead(e.at) OVER (PARTITION BY e.deal_id ORDER BY e.at, e.id) AS exited
            FROM events e),
        stays AS (
            SELECT s.key, s.position,
                   epoch_us(o.exited - o.at) / 86400e6 AS days
            FROM ordered o JOIN stages s ON s.id = o.to_stage_id
            WHERE s.kind = 'open' AND o.exited >= ? AND o.exited < ?)
        SELECT key, count(*), avg(days), quantile_cont(days, 0.5), quantile_cont(days, 0.9)
        FROM stays GROUP BY key, position ORDER BY position
    """,
        [_naive(start), _naive(end)],
    ).fetchall()


def forecast_per_rep_month(
    con: duckdb.DuckDBPyConnection, date_from: dt.date, date_to: dt.date
) -> list[tuple]:
    """Per month and owner: open count, amount, weighted, commit, best case, already won."""
    start = _naive(dt.datetime.combine(date_from, dt.time(), dt.UTC) - SHANGHAI)
    end = _naive(dt.datetime.combine(date_to, dt.time(), dt.UTC) - SHANGHAI)
    open_rows = con.execute(
        """
        SELECT strftime(d.expected_close_date, '%Y-%m') AS period, d.owner_id, count(*),
               coalesce(sum(d.amount_cents), 0),
               sum(coalesce(d.amount_cents, 0) * s.probability),
               coalesce(sum(d.amount_cents) FILTER (WHERE coalesce(nullif(d.forecast_category,
                   ''), s.forecast_category) = 'commit'), 0),
               coalesce(sum(d.amount_cents) FILTER (WHERE coalesce(nullif(d.forecast_category,
                   ''), s.forecast_category) = 'best_case'), 0)
        FROM deals d JOIN stages s ON s.id = d.stage_id
        WHERE d.status = 'open' AND d.expected_close_date >= ? AND d.expected_close_date < ?
        GROUP BY 1, 2
    """,
        [date_from, date_to],
    ).fetchall()
    won_rows = con.execute(
        """
        SELECT strftime(closed_at + INTERVAL 8 HOUR, '%Y-%m'), owner_id,
               coalesce(sum(amount_cents), 0)
        FROM deals WHERE status = 'won' AND closed_at >= ? AND closed_at < ? GROUP BY 1, 2
    """,
        [start, end],
    ).fetchall()
    cells: dict[tuple, list[Any]] = {}
    for period, owner, count, cents, weighted, commit, best in open_rows:
        cells[(period, owner)] = [count, cents, _cents(weighted), commit, best, 0]
    for period, owner, cents in won_rows:
        cells.setdefault((period, owner), [0, 0, Decimal("0.00"), 0, 0, 0])[5] = cents
    return sorted((*key, *values) for key, values in cells.items())


def stale_per_rep(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> list[tuple]:
    return con.execute(
        """
        SELECT d.owner_id, count(*) FROM deals d JOIN stages s ON s.id = d.stage_id
        WHERE d.status = 'open' AND d.last_touch < ? - to_days(s.rot_days)
        GROUP BY d.owner_id ORDER BY d.owner_id
    """,
        [_naive(now)],
    ).fetchall()


def stage_win_rates(
    con: duckdb.DuckDBPyConnection, start: dt.datetime, end: dt.datetime
) -> list[tuple]:
    """Per open stage index: deals closed in [start, end) that reached it, and won."""
    return con.execute(
        f"""
        {MAX_STAGE}
        closed AS (
            SELECT status, max_stage FROM deal_max
            WHERE status IN ('won', 'lost') AND closed_at >= ? AND closed_at < ?)
        SELECT k.k, count(*) FILTER (WHERE c.max_stage >= k.k),
               count(*) FILTER (WHERE c.max_stage >= k.k AND c.status = 'won')
        FROM closed c, (SELECT range AS k FROM range(1, (SELECT n + 1 FROM n))) k
        GROUP BY k.k ORDER BY k.k
    """,
        [_naive(start), _naive(end)],
    ).fetchall()


def collection_per_month(
    con: duckdb.DuckDBPyConnection, start: dt.datetime, end: dt.datetime
) -> list[tuple]:
    """Per month of winning (Shanghai): won deals, won cents, paid cents."""
    return con.execute(
        """
        WITH paid AS (SELECT deal_id, sum(amount_cents) AS cents FROM payments GROUP BY 1)
        SELECT strftime(d.closed_at + INTERVAL 8 HOUR, '%Y-%m'), count(*),
               coalesce(sum(d.amount_cents), 0), coalesce(sum(p.cents), 0)
        FROM deals d LEFT JOIN paid p ON p.deal_id = d.id
        WHERE d.status = 'won' AND d.closed_at >= ? AND d.closed_at < ?
        GROUP BY 1 ORDER BY 1
    """,
        [_naive(start), _naive(end)],
    ).fetchall()


def _cents(value: Decimal | None) -> Decimal:
    """Exact weighted cents -> currency units rounded half up (as the product does)."""
    return (Decimal(value or 0) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
