"""Dialect-aware SQL for bulk loads: multi-row INSERTs, reserved ids, column adapters."""

import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl
    from django.db.backends.base.base import BaseDatabaseWrapper


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
