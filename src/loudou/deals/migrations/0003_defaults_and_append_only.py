from django.db import migrations


def create_lost_reasons(apps, schema_editor):
    from loudou.pipelines.defaults import DEFAULT_LOST_REASONS

    LostReason = apps.get_model("deals", "LostReason")
    for key, zh, en in DEFAULT_LOST_REASONS:
        LostReason.objects.get_or_create(key=key, defaults={"name_zh": zh, "name_en": en})


# Frozen: the guard's SQL is written here, not imported, so this migration never changes
# when core/db.py does.
PG_GUARD = [
    """
    CREATE OR REPLACE FUNCTION loudou_append_only() RETURNS trigger AS $$
    BEGIN
      -- SQLSTATE 23000 so that drivers report an integrity error, as SQLite does.
      RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    "DROP TRIGGER IF EXISTS deals_stageevent_append_only ON deals_stageevent;",
    """
    CREATE TRIGGER deals_stageevent_append_only BEFORE UPDATE ON deals_stageevent
    FOR EACH ROW EXECUTE FUNCTION loudou_append_only();
    """,
]
SQLITE_GUARD = [
    """
CREATE TRIGGER IF NOT EXISTS deals_stageevent_append_only
BEFORE UPDATE ON deals_stageevent
BEGIN SELECT RAISE(ABORT, 'deals_stageevent is append-only'); END;
"""
]


def add_append_only_guard(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for sql in PG_GUARD if postgres else SQLITE_GUARD:
        schema_editor.execute(sql, params=None)


def drop_append_only_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        sql = "DROP TRIGGER IF EXISTS deals_stageevent_append_only ON deals_stageevent;"
    else:
        sql = "DROP TRIGGER IF EXISTS deals_stageevent_append_only;"
    schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("deals", "0002_initial")]
    operations = [
        migrations.RunPython(create_lost_reasons, migrations.RunPython.noop),
        migrations.RunPython(add_append_only_guard, drop_append_only_guard),
    ]
