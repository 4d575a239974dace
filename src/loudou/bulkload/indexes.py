"""Secondary indexes dropped for a big SQLite load and rebuilt at its end."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper


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
