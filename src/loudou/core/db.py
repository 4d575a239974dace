"""Dialect-aware SQL. The only place where SQLite and PostgreSQL get different SQL."""

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


def append_only_sql(connection: BaseDatabaseWrapper, table: str) -> list[str]:
    """Statements that make UPDATE on ``table`` fail in the database itself.

    Deleting stays possible (a deal's deletion cascades to its events; tests flush)."""
    if connection.vendor == "sqlite":
        return [_SQLITE_APPEND_ONLY.format(table=table)]
    if connection.vendor == "postgresql":
        return [sql.format(table=table) for sql in _PG_APPEND_ONLY]
    raise NotImplementedError(f"Loudou does not support {connection.vendor}")


def drop_append_only_sql(connection: BaseDatabaseWrapper, table: str) -> list[str]:
    if connection.vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"]
    return [f"DROP TRIGGER IF EXISTS {table}_append_only;"]
