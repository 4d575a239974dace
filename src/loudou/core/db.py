"""Dialect-aware SQL. The only place where SQLite and PostgreSQL get different SQL."""

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # the SQLite reader child imports this module without Django
    from django.db.backends.base.base import BaseDatabaseWrapper

_SQLITE_APPEND_ONLY = """
CREATE TRIGGER IF NOT EXISTS {table}_append_only
BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;
"""

_PG_APPEND_ONLY = [
    """
    CREATE OR REPLACE FUNCTION loudou_append_only() RETURNS trigger AS $$
    BEGIN
      -- SQLSTATE 23000 so that drivers report an integrity error, as SQLite does.
      RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    "DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
    """
    CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION loudou_append_only();
    """,
]


def append_only_sql(connection: "BaseDatabaseWrapper", table: str) -> list[str]:
    """Statements that make UPDATE on ``table`` fail in the database itself.

    Deleting stays possible (a deal's deletion cascades to its events; tests flush)."""
    if connection.vendor == "sqlite":
        return [_SQLITE_APPEND_ONLY.format(table=table)]
    if connection.vendor == "postgresql":
        return [sql.format(table=table) for sql in _PG_APPEND_ONLY]
    raise NotImplementedError(f"Loudou does not support {connection.vendor}")


def drop_append_only_sql(connection: "BaseDatabaseWrapper", table: str) -> list[str]:
    if connection.vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"]
    return [f"DROP TRIGGER IF EXISTS {table}_append_only;"]


# Tables whose writes change what reports show, with the columns whose UPDATE matters
# (None: any column). A user's last_login changing on every login must not drop caches.
WATCHED_TABLES: dict[str, tuple[str, ...] | None] = {
    "deals_deal": None,
    "deals_stageevent": None,
    "deals_payment": None,
    "activities_activity": None,
    "pipelines_pipeline": None,
    "pipelines_stage": None,
    "people_team": None,
    "people_quota": None,
    "people_user": ("username", "team_id", "role", "is_active", "is_superuser"),
}

_PG_BUMP_FUNCTION = """
CREATE OR REPLACE FUNCTION loudou_bump_data_version() RETURNS trigger AS $$
BEGIN UPDATE core_dataversion SET seq = seq + 1 WHERE id = 1; RETURN NULL; END;
$$ LANGUAGE plpgsql;
"""


def data_version_sql(connection: "BaseDatabaseWrapper") -> list[str]:
    """Triggers that increase ``core_dataversion.seq`` on every write to a watched table.

    PostgreSQL: one statement-level trigger per table (a bulk insert bumps once).
    SQLite: row-level triggers (the only kind it has)."""
    statements: list[str] = []
    if connection.vendor == "postgresql":
        statements.append(_PG_BUMP_FUNCTION)
        for table, columns in WATCHED_TABLES.items():
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            statements.append(f"DROP TRIGGER IF EXISTS {table}_data_version ON {table};")
            statements.append(
                f"CREATE TRIGGER {table}_data_version AFTER INSERT OR {update} OR DELETE "
                f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                "EXECUTE FUNCTION loudou_bump_data_version();"
            )
        return statements
    if connection.vendor == "sqlite":
        bump = "BEGIN UPDATE core_dataversion SET seq = seq + 1 WHERE id = 1; END;"
        for table, columns in WATCHED_TABLES.items():
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            for event, name in (("INSERT", "ins"), (update, "upd"), ("DELETE", "del")):
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_data_version_{name} "
                    f"AFTER {event} ON {table} {bump}"
                )
        return statements
    raise NotImplementedError(f"Loudou does not support {connection.vendor}")


def data_version_triggers_missing(connection: "BaseDatabaseWrapper") -> list[str]:
    """Watched tables lacking their data-version trigger(s) in this database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    if connection.vendor == "postgresql":
        return [t for t in WATCHED_TABLES if f"{t}_data_version" not in present]
    return [
        t
        for t in WATCHED_TABLES
        if not all(f"{t}_data_version_{n}" in present for n in ("ins", "upd", "del"))
    ]


def drop_data_version_sql(connection: "BaseDatabaseWrapper") -> list[str]:
    if connection.vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_data_version ON {table};" for table in WATCHED_TABLES
        ] + ["DROP FUNCTION IF EXISTS loudou_bump_data_version();"]
    return [
        f"DROP TRIGGER IF EXISTS {table}_data_version_{name};"
        for table in WATCHED_TABLES
        for name in ("ins", "upd", "del")
    ]


def bump_data_version(connection: "BaseDatabaseWrapper") -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_dataversion SET seq = seq + 1 WHERE id = 1")


# 64 MiB: at 1M imported rows, 128 MiB was 2 % faster for 80 MiB more memory.
BULK_CACHE_KIB = 64 * 1024


@contextlib.contextmanager
def bulk_write(connection: "BaseDatabaseWrapper") -> Iterator[None]:
    """For a bulk load inside one transaction: bump the data version once, not per row.

    SQLite's triggers fire per row (2.5× slower inserts); they are dropped for the load and
    re-created before the transaction commits. DDL is transactional in SQLite and it has
    one writer at a time, so no other connection ever sees the triggers missing.
    PostgreSQL's triggers are per statement already: nothing to do but the final bump."""
    if not connection.in_atomic_block:
        raise RuntimeError("bulk_write() must run inside transaction.atomic()")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for sql in drop_data_version_sql(connection):
                cursor.execute(sql)
            # A bigger page cache keeps the indexes being filled in memory (SQLite's
            # default is 2 MiB); it is given back when the load ends.
            cache = cursor.execute("PRAGMA cache_size").fetchone()[0]
            cursor.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        yield
    finally:
        if connection.vendor == "sqlite":
            # The driver's own connection: after a failed statement Django refuses queries
            # until the rollback, but the page cache is the connection's, not the load's.
            connection.connection.execute(f"PRAGMA cache_size = {int(cache)}")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for sql in data_version_sql(connection):
                cursor.execute(sql)
    bump_data_version(connection)


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
