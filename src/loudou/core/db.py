"""Dialect-aware SQL. The only place where SQLite and PostgreSQL get different SQL."""

import contextlib
import itertools
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

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
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(cache)}")
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


def reserve_ids(connection: "BaseDatabaseWrapper", table: str, count: int) -> list[int]:
    """``count`` new primary keys for ``table``, for bulk inserts that must know their ids.

    PostgreSQL takes them from the table's sequence (safe with concurrent writers). SQLite
    counts on from the largest id: the caller is inside a write transaction, and SQLite
    lets one writer in at a time."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                "FROM generate_series(1, %s)",
                [count],
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor == "sqlite":
            if not connection.in_atomic_block:
                raise RuntimeError("reserve_ids() on SQLite must run inside a transaction")
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            start = cursor.fetchone()[0] + 1
            return list(range(start, start + count))
    raise NotImplementedError(f"Loudou does not support {connection.vendor}")


def datetime_adapter(connection: "BaseDatabaseWrapper") -> "Callable[[Any], Any]":
    """A fast equivalent of ``connection.ops.adapt_datetimefield_value`` for bulk inserts.

    SQLite stores naive UTC text exactly as Django writes it ("2024-01-05 01:00:00[.ffffff]");
    PostgreSQL takes aware datetimes as they are."""
    if connection.vendor == "postgresql":
        return lambda value: value
    if connection.vendor == "sqlite":

        def adapt(value: Any) -> Any:
            if value is None:
                return None
            offset = value.utcoffset()
            if offset is None:
                raise ValueError("naive datetime in a bulk insert")
            return (value - offset).replace(tzinfo=None).isoformat(" ")

        return adapt
    raise NotImplementedError(f"Loudou does not support {connection.vendor}")


def datetime_column(connection: "BaseDatabaseWrapper", column: "pl.Series") -> list[Any]:
    """``datetime_adapter`` over a whole Polars column of UTC datetimes, vectorised.

    SQLite's text is Django's: microseconds only when there are any."""
    import polars as pl

    if connection.vendor == "postgresql":
        return column.to_list()
    if connection.vendor == "sqlite":
        frame = pl.DataFrame({"at": column.dt.replace_time_zone(None)})
        text = pl.when(pl.col("at").dt.microsecond() == 0)
        text = text.then(pl.col("at").dt.strftime("%Y-%m-%d %H:%M:%S"))
        text = text.otherwise(pl.col("at").dt.strftime("%Y-%m-%d %H:%M:%S%.6f"))
        return frame.select(text).to_series().to_list()
    raise NotImplementedError(f"Loudou does not support {connection.vendor}")


def decimal_column(connection: "BaseDatabaseWrapper", column: "pl.Series") -> list[Any]:
    """Plain decimal strings ("1234.50") as the database's bulk inserts take them: SQLite
    gets the text Django's Decimal adapter would give; PostgreSQL gets Decimals."""
    if connection.vendor == "sqlite":
        return column.to_list()
    from decimal import Decimal

    return [None if value is None else Decimal(value) for value in column.to_list()]


# Rows per INSERT statement in ``insert_many``, and a cap on its parameters (SQLite
# allows 32,766 and PostgreSQL 65,535). Fewer, bigger statements: a writer thread takes
# Python's lock back less often (1M imported rows: 36.0 s with 500 rows, 34.6 s with 2,000).
INSERT_ROWS = 2000
INSERT_PARAMS = 30_000


def insert_many(
    cursor: Any,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    literals: dict[str, str] | None = None,
) -> None:
    """INSERT ``rows`` (values in ``columns`` order) into ``table``, many rows per statement
    (a multi-row VALUES list, which both databases take).

    ``literals`` are columns given the same SQL literal in every row (written by the code,
    never user data): fewer parameters to bind. With SQLite, ``executemany`` cost two to
    three times as much per row (bench/RESULTS.md)."""
    literals = literals or {}
    names = ", ".join([*columns, *literals])
    mark = "?" if cursor.db.vendor == "sqlite" else "%s"
    one = "(" + ", ".join([mark] * len(columns) + list(literals.values())) + ")"
    most = max(1, min(INSERT_ROWS, INSERT_PARAMS // max(1, len(columns))))
    start = 0
    while start < len(rows):
        # Statements of 2**k rows only: the drivers cache compiled statements by their
        # text, and one of every remainder's length would hold hundreds of big ones.
        size = 1 << (min(most, len(rows) - start).bit_length() - 1)
        chunk = rows[start : start + size]
        start += size
        sql = f"INSERT INTO {table} ({names}) VALUES " + ", ".join([one] * size)
        _execute(cursor, sql, list(itertools.chain.from_iterable(chunk)))


def _execute(cursor: Any, sql: str, params: list[Any]) -> None:
    """One statement of ``insert_many``, written with the driver's own placeholders.

    Django's SQLite cursor rewrites ``%s`` into ``?`` with a regular expression over the
    whole text, 3 ms for a 1,024-row statement; SQLite's is run by the driver directly
    (Django's errors all the same)."""
    if cursor.db.vendor == "sqlite":
        # Imported here: the report loader's child imports this module beside connectorx's
        # own SQLite, and two SQLite libraries in one process break its locking.
        import sqlite3

        with cursor.db.wrap_database_errors:
            sqlite3.Cursor.execute(cursor.cursor, sql, params)
    else:
        cursor.execute(sql, params)


SWITCH_INTERVAL = 0.0005  # seconds; see BackgroundWriter.__enter__
_switching = {"writers": 0, "saved": 0.0}
_switching_lock = threading.Lock()


def _quick_switching(on: bool) -> None:
    """Python's switch interval at most SWITCH_INTERVAL while any writer thread runs (it
    is the whole process's setting: imports running at once restore it once, at the end)."""
    with _switching_lock:
        if on:
            if _switching["writers"] == 0:
                _switching["saved"] = sys.getswitchinterval()
                sys.setswitchinterval(min(_switching["saved"], SWITCH_INTERVAL))
            _switching["writers"] += 1
        else:
            _switching["writers"] -= 1
            if _switching["writers"] == 0:
                sys.setswitchinterval(_switching["saved"])


class BackgroundWriter:
    """Runs database writes, in the order given, in a second thread on the caller's own
    connection (so inside its transaction) while the caller prepares the next ones.

    Both drivers leave Python's lock while the database works (a multi-row INSERT in
    SQLite, a round trip to PostgreSQL), so the two threads really overlap. The caller must
    ``drain()`` before it uses the connection itself; a job's error is raised in the
    caller's thread by the next ``submit()``, ``drain()`` or the end of the ``with``."""

    def __init__(self, connection: "BaseDatabaseWrapper", depth: int = 1) -> None:
        # The wrapper itself, not django.db.connection: that proxy is per thread.
        self.connection = connection
        # depth: how many prepared jobs may wait (memory: a batch each).
        self.jobs: queue.Queue[Callable[[BaseDatabaseWrapper], None] | None] = queue.Queue(
            maxsize=depth
        )
        self.error: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._run, name="loudou-writer", daemon=True)

    def __enter__(self) -> "BackgroundWriter":
        self.connection.inc_thread_sharing()
        # The writer needs Python's lock for a moment between statements; by default a
        # busy caller keeps it up to 5 ms each time (1M imported rows: 36.4 s -> 34.6 s).
        _quick_switching(True)
        self.thread.start()
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self.cancelled = kind is not None  # the caller failed: skip what is still queued
        self.jobs.put(None)
        self.thread.join()
        _quick_switching(False)
        self.connection.dec_thread_sharing()
        if kind is None:
            self._raise()

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                if self.error is None and not self.cancelled:
                    job(self.connection)
            except BaseException as error:  # handed to the caller's thread
                self.error = error
            finally:
                self.jobs.task_done()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def submit(self, job: "Callable[[BaseDatabaseWrapper], None]") -> None:
        """Queue ``job``; it is called with the caller's connection (``django.db.connection``
        would be the writer thread's own)."""
        self._raise()
        self.jobs.put(job)

    def drain(self) -> None:
        """Wait until every job submitted so far has run."""
        self.jobs.join()
        self._raise()


class DeferredIndexes:
    """Drops the plain secondary indexes of ``tables`` (not those in ``keep``, not unique
    ones) for the rest of a bulk load, and rebuilds them with ``rebuild()``.

    Filling a big table and then sorting each index once is several times faster than
    updating every index on every insert. SQLite only, inside the load's transaction: DDL
    is transactional there and readers keep seeing the last commit, indexes included; a
    rollback brings the indexes back by itself. Elsewhere (PostgreSQL would lock readers
    out for the whole load) ``drop()`` does nothing."""

    def __init__(
        self, connection: "BaseDatabaseWrapper", tables: list[str], keep: set[str]
    ) -> None:
        self.connection = connection
        self.tables = tables
        self.keep = keep
        self.dropped: list[str] = []

    def drop(self) -> None:
        connection = self.connection
        if connection.vendor != "sqlite" or self.dropped:
            return
        if not connection.in_atomic_block:
            raise RuntimeError("DeferredIndexes.drop() must run inside transaction.atomic()")
        marks = ", ".join(["%s"] * len(self.tables))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks}) AND sql NOT LIKE 'CREATE UNIQUE%%' ORDER BY name",
                self.tables,
            )
            for name, sql in cursor.fetchall():
                if name not in self.keep:
                    cursor.execute(f'DROP INDEX "{name}"')
                    self.dropped.append(sql)

    def rebuild(self) -> None:
        with self.connection.cursor() as cursor:
            for sql in self.dropped:
                cursor.execute(sql)
        self.dropped = []
