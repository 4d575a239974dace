"""Operations that migrations share. Their behaviour must never change once a migration
uses them (migrations are frozen): fix a bug in a new function instead.

- ``keep_triggers``: SQLite adds a CHECK constraint (and a NOT NULL column) by rebuilding
  the table, which drops its triggers (append-only guard, change tracking). The triggers'
  SQL is read from the database before and run again after, so whatever triggers a table
  had, whichever migration installed them, it keeps. PostgreSQL alters tables in place.
- ``clear_out_of_range``: values a new CHECK would refuse, repaired before it is added.
"""

from typing import Any

from django.db import migrations


def keep_triggers(*tables: str) -> tuple[migrations.RunPython, migrations.RunPython]:
    """Two operations to put around the ones that rebuild ``tables`` on SQLite."""
    saved: dict[str, list[str]] = {}

    def save(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "sqlite":
            return
        with schema_editor.connection.cursor() as cursor:
            for table in tables:
                cursor.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                    [table],
                )
                saved[table] = [row[0] for row in cursor.fetchall()]

    def restore(apps: Any, schema_editor: Any) -> None:
        for table in tables:
            for sql in saved.pop(table, []):
                schema_editor.execute(
                    sql.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1)
                )

    # Backwards, the same two steps in the reverse order.
    return migrations.RunPython(save, restore), migrations.RunPython(restore, save)


def clear_out_of_range(table: str, column: str, condition: str, value: str) -> migrations.RunSQL:
    """Set ``column`` to ``value`` (SQL) where ``condition`` (SQL) holds, before a CHECK
    that refuses those rows is added."""
    return migrations.RunSQL(
        f"UPDATE {table} SET {column} = {value} WHERE {condition}", migrations.RunSQL.noop
    )
