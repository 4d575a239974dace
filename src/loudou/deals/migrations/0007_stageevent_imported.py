from django.db import migrations, models

# SQLite adds a NOT NULL column and a CHECK constraint by rebuilding the table, which drops
# its triggers (append-only guard, change tracking). Their SQL is read from the database
# before the rebuild and run again after it, so this migration keeps whatever triggers the
# table had, whichever migrations installed them. PostgreSQL alters the table in place.
_saved: dict[str, list[str]] = {}


def save_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            ["deals_stageevent"],
        )
        _saved["deals_stageevent"] = [row[0] for row in cursor.fetchall()]


def restore_triggers(apps, schema_editor):
    for sql in _saved.pop("deals_stageevent", []):
        schema_editor.execute(sql.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1))


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0006_drop_unused_indexes"),
    ]

    operations = [
        migrations.RunPython(save_triggers, restore_triggers),
        migrations.AddField(
            model_name="stageevent",
            name="imported",
            field=models.BooleanField(db_default=False, default=False, verbose_name="imported"),
        ),
        migrations.AddConstraint(
            model_name="stageevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("imported", False), ("override_reason", ""), _connector="OR"),
                name="deals_event_imported_not_forced",
            ),
        ),
        migrations.RunPython(restore_triggers, save_triggers),
    ]
