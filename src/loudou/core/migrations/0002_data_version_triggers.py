"""The data-version triggers as they were installed (0003 replaces them by change records).

Frozen: the SQL is written here, not imported, so this migration never changes when
``core/db.py`` does."""

from django.db import migrations

# Tables and the columns whose UPDATE mattered (None: any column), as of this migration.
WATCHED = {
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

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION loudou_bump_data_version() RETURNS trigger AS $$
BEGIN UPDATE core_dataversion SET seq = seq + 1 WHERE id = 1; RETURN NULL; END;
$$ LANGUAGE plpgsql;
"""


def install_sql(vendor: str) -> list[str]:
    statements = []
    if vendor == "postgresql":
        statements.append(PG_FUNCTION)
        for table, columns in WATCHED.items():
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            statements.append(f"DROP TRIGGER IF EXISTS {table}_data_version ON {table};")
            statements.append(
                f"CREATE TRIGGER {table}_data_version AFTER INSERT OR {update} OR DELETE "
                f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                "EXECUTE FUNCTION loudou_bump_data_version();"
            )
        return statements
    bump = "BEGIN UPDATE core_dataversion SET seq = seq + 1 WHERE id = 1; END;"
    for table, columns in WATCHED.items():
        update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        for event, name in (("INSERT", "ins"), (update, "upd"), ("DELETE", "del")):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_data_version_{name} "
                f"AFTER {event} ON {table} {bump}"
            )
    return statements


def drop_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {t}_data_version ON {t};" for t in WATCHED] + [
            "DROP FUNCTION IF EXISTS loudou_bump_data_version();"
        ]
    return [
        f"DROP TRIGGER IF EXISTS {t}_data_version_{name};"
        for t in WATCHED
        for name in ("ins", "upd", "del")
    ]


def install(apps, schema_editor):
    apps.get_model("core", "DataVersion").objects.get_or_create(id=1, defaults={"seq": 0})
    for sql in install_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def uninstall(apps, schema_editor):
    for sql in drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("deals", "0004_deal_last_activity_at"),
        ("activities", "0002_initial"),
        ("people", "0001_initial"),
        ("pipelines", "0002_default_pipeline"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
