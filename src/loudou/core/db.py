"""Dialect-aware SQL. The only place where SQLite and PostgreSQL get different SQL."""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # the SQLite reader child imports this module without Django
    from django.db.backends.base.base import BaseDatabaseWrapper

# The tables whose changes core_change records, by triggers that
# core/migrations/0003_change_records.py installs (the SQL is frozen there).
TRACKED_TABLES = (
    "deals_deal",
    "deals_stageevent",
    "deals_payment",
    "activities_activity",
    "pipelines_pipeline",
    "pipelines_stage",
    "people_team",
    "people_quota",
    "people_user",
)
# A change that may touch anything (a bulk load): readers start again from scratch.
EVERYTHING = "*"


def change_trigger_names(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [name for t in TRACKED_TABLES for name in (f"{t}_change", f"{t}_change_truncate")]
    return [f"{t}_change_{n}" for t in TRACKED_TABLES for n in ("ins", "upd", "del")]


def change_triggers_missing(connection: "BaseDatabaseWrapper") -> list[str]:
    """Change-record triggers missing in this database (then nothing may be cached)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in change_trigger_names(connection.vendor) if name not in present]


@dataclass(frozen=True)
class ChangeMarker:
    """Where a reader stood in the change records: the highest id it could see, and on
    PostgreSQL its snapshot (ids come from a sequence, so a transaction holding a lower id
    can commit after a higher one; the snapshot says which transactions it had not seen).
    ``fingerprint`` identifies the newest record itself, so that a marker kept on disk is
    not trusted against another database that happens to be at the same id (a restored
    backup, a database created again)."""

    max_id: int
    snapshot: str | None = None
    fingerprint: str | None = None


# The newest record, its time as text: the same text whichever query reads it.
_RECORD = "SELECT id, tbl, deal_id, CAST(at AS TEXT) AS at_text FROM core_change"
_NEWEST = f"{_RECORD} ORDER BY id DESC LIMIT 1"


def _fingerprint(row: tuple | None) -> str | None:
    return None if row is None else "|".join(str(value) for value in row)


def change_marker(connection: "BaseDatabaseWrapper") -> ChangeMarker:
    """The marker to take *before* reading data: every change not covered by it is seen
    by ``changed_since`` afterwards, however the commits interleave."""
    with connection.cursor() as cursor:
        # One statement: on PostgreSQL the newest row and the snapshot are one moment.
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT newest.*, pg_current_snapshot()::text FROM (SELECT 1) AS one "
                f"LEFT JOIN ({_NEWEST}) AS newest ON true"
            )
            *newest, snapshot = cursor.fetchone()
        else:
            cursor.execute(f"SELECT newest.* FROM (SELECT 1) LEFT JOIN ({_NEWEST}) AS newest")
            newest, snapshot = cursor.fetchone(), None
        if newest[0] is None:
            return ChangeMarker(0, snapshot, None)
        return ChangeMarker(int(newest[0]), snapshot, _fingerprint(tuple(newest)))


def marker_belongs(connection: "BaseDatabaseWrapper", marker: ChangeMarker) -> bool:
    """Whether ``marker`` still stands in this database's change records: its newest record
    is still here, unchanged. Records are only ever added (and the oldest pruned, never
    the newest), so a missing one means the records were cleared or the database
    replaced (a restored backup, a test's flush): whatever was read at the marker cannot
    be brought up to date from them. A marker taken before any record existed proves
    nothing (False)."""
    if marker.fingerprint is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"{_RECORD} WHERE id = %s", [marker.max_id])
        return _fingerprint(cursor.fetchone()) == marker.fingerprint


def check_marker(connection: "BaseDatabaseWrapper", marker: ChangeMarker) -> tuple[bool, bool]:
    """``(marker_belongs, changed_since)`` in one query: what a cache asks before every
    report."""
    fields = "id, tbl, deal_id, CAST(at AS TEXT)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and marker.snapshot is not None:
            xmin = int(marker.snapshot.split(":", 1)[0])
            cursor.execute(
                f"SELECT newest.*, (EXISTS (SELECT 1 FROM core_change WHERE id > %s) OR EXISTS ("
                "SELECT 1 FROM core_change WHERE txid >= %s "
                "AND NOT pg_visible_in_snapshot(txid::text::xid8, %s::pg_snapshot))) "
                f"FROM (SELECT 1) AS one LEFT JOIN (SELECT {fields} FROM core_change "
                "WHERE id = %s) AS newest ON true",
                [marker.max_id, xmin, marker.snapshot, marker.max_id],
            )
        else:
            cursor.execute(
                "SELECT newest.*, EXISTS (SELECT 1 FROM core_change WHERE id > %s) "
                f"FROM (SELECT 1) AS one LEFT JOIN (SELECT {fields} FROM core_change "
                "WHERE id = %s) AS newest ON 1 = 1",
                [marker.max_id, marker.max_id],
            )
        *newest, changed = cursor.fetchone()
    found = None if newest[0] is None else _fingerprint(tuple(newest))
    belongs = marker.fingerprint is None or found == marker.fingerprint
    return belongs, bool(changed)


def changed_since(connection: "BaseDatabaseWrapper", marker: ChangeMarker) -> bool:
    """Whether a change was committed that a reader standing at ``marker`` did not see.

    SQLite has one writer at a time, so ids are assigned in commit order (AUTOINCREMENT
    never reuses one): a higher id is all there is to look for. PostgreSQL also looks for
    rows of transactions that were still running at the marker's snapshot (an index on
    ``txid`` keeps that to the recent rows)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and marker.snapshot is not None:
            xmin = int(marker.snapshot.split(":", 1)[0])
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM core_change WHERE id > %s) OR EXISTS ("
                "SELECT 1 FROM core_change WHERE txid >= %s "
                "AND NOT pg_visible_in_snapshot(txid::text::xid8, %s::pg_snapshot))",
                [marker.max_id, xmin, marker.snapshot],
            )
        else:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM core_change WHERE id > %s)", [marker.max_id]
            )
        return bool(cursor.fetchone()[0])


@dataclass(frozen=True)
class ChangeSet:
    """What changed since a marker: the deals (ids), the tables changed as a whole or
    without a deal (small tables, bulk loads: ``EVERYTHING``), and whether there were
    more deals than the caller's limit (then it should load everything)."""

    deal_ids: frozenset[int]
    tables: frozenset[str]
    too_many: bool = False


def changes_since(connection: "BaseDatabaseWrapper", marker: ChangeMarker, limit: int) -> ChangeSet:
    """The changes a reader at ``marker`` has not seen (and perhaps a few it has: reading
    them again is harmless), at most ``limit`` deals."""
    where = "id > %s"
    params: list = [marker.max_id]
    if connection.vendor == "postgresql" and marker.snapshot is not None:
        where += (
            " OR (txid >= %s AND NOT pg_visible_in_snapshot(txid::text::xid8, %s::pg_snapshot))"
        )
        params += [int(marker.snapshot.split(":", 1)[0]), marker.snapshot]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT tbl FROM core_change WHERE ({where}) AND deal_id IS NULL", params
        )
        tables = frozenset(row[0] for row in cursor.fetchall())
        cursor.execute(
            f"SELECT DISTINCT deal_id FROM core_change WHERE ({where}) AND deal_id IS NOT NULL "
            "LIMIT %s",
            [*params, limit + 1],
        )
        deal_ids = frozenset(row[0] for row in cursor.fetchall())
    return ChangeSet(deal_ids, tables, too_many=len(deal_ids) > limit)


def record_change(connection: "BaseDatabaseWrapper", table: str = EVERYTHING) -> None:
    """Record a change the triggers did not (a bulk load): ``table`` as a whole."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO core_change (tbl, deal_id, txid, at) "
                "VALUES (%s, NULL, pg_current_xact_id()::text::bigint, now())",
                [table],
            )
        else:
            cursor.execute(
                "INSERT INTO core_change (tbl, deal_id, at) "
                "VALUES (%s, NULL, strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now'))",
                [table],
            )


def prune_changes(connection: "BaseDatabaseWrapper", keep_hours: float) -> int:
    """Delete change records older than ``keep_hours``, always keeping the newest (the
    ids must never go back). Returns how many were deleted."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "DELETE FROM core_change WHERE at < now() - make_interval(secs => %s) "
                "AND id < (SELECT MAX(id) FROM core_change)",
                [keep_hours * 3600],
            )
        else:
            cursor.execute(
                "DELETE FROM core_change WHERE at < strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', "
                "%s) AND id < (SELECT MAX(id) FROM core_change)",
                [f"-{keep_hours * 3600:.0f} seconds"],
            )
        return cursor.rowcount


# 64 MiB: at 1M imported rows, 128 MiB was 2 % faster for 80 MiB more memory.
BULK_CACHE_KIB = 64 * 1024


@contextlib.contextmanager
def bulk_write(connection: "BaseDatabaseWrapper") -> Iterator[None]:
    """For a bulk load inside one transaction: one whole-table change record, not one per
    row.

    SQLite's triggers fire per row (2.5× slower inserts); they are dropped for the load and
    put back, from their own SQL, before the transaction commits. DDL is transactional in
    SQLite and it has one writer at a time, so no other connection ever sees them missing.
    PostgreSQL's trigger functions skip while the transaction says ``loudou.bulk_load``
    (no DDL, so no table lock that would make other users wait)."""
    if not connection.in_atomic_block:
        raise RuntimeError("bulk_write() must run inside transaction.atomic()")
    saved: list[str] = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            names = change_trigger_names("sqlite")
            placeholders = ", ".join(["%s"] * len(names))
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                f"AND name IN ({placeholders})",
                names,
            )
            saved = [row[0] for row in cursor.fetchall()]
            for name in names:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            # A bigger page cache keeps the indexes being filled in memory (SQLite's
            # default is 2 MiB); it is given back when the load ends.
            cache = cursor.execute("PRAGMA cache_size").fetchone()[0]
            cursor.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
        else:
            cursor.execute("SET LOCAL loudou.bulk_load = 'on'")
    try:
        yield
    finally:
        if connection.vendor == "sqlite":
            # The driver's own connection: after a failed statement Django refuses queries
            # until the rollback, but the page cache is the connection's, not the load's.
            connection.connection.execute(f"PRAGMA cache_size = {int(cache)}")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for sql in saved:
                cursor.execute(sql)
        else:
            cursor.execute("SET LOCAL loudou.bulk_load = 'off'")
    record_change(connection)


def epoch_us_of_latest_sql(vendor: str, *columns: str) -> str:
    """SQL for the latest of timestamp ``columns`` (nulls ignored; the first column must
    not be null) as integer microseconds since 1970 UTC.

    Reading one integer is much cheaper than parsing several timestamps into Arrow."""
    if vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM GREATEST({', '.join(columns)})) * 1000000 AS BIGINT)"
    if vendor == "sqlite":
        # SQLite's max() is NULL if any argument is: fall back to the first column.
        args = ", ".join([columns[0], *(f"COALESCE({c}, {columns[0]})" for c in columns[1:])])
        return f"CAST(ROUND((julianday(max({args})) - 2440587.5) * 86400000000) AS INTEGER)"
    raise NotImplementedError(f"Loudou does not support {vendor}")
