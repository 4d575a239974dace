"""Change records replace the one data-version row (a lock every write held to commit).

Frozen: the trigger SQL is written here, not imported, so this migration never changes
when ``core/db.py`` does. ``core/db.py`` knows the trigger names (to check they exist) and
how bulk loads skip them; ``core/tests/test_change_records.py`` checks both agree."""

import django.db.models.functions.datetime
from django.db import migrations, models

# table -> (the column naming the deal, or None; the columns whose UPDATE matters, or None
# for any). A user's last_login changing on every login must not count as a change.
TRACKED = {
    "deals_deal": ("id", None),
    "deals_stageevent": ("deal_id", None),
    "deals_payment": ("deal_id", None),
    "activities_activity": ("deal_id", None),
    "pipelines_pipeline": (None, None),
    "pipelines_stage": (None, None),
    "people_team": (None, None),
    "people_quota": (None, None),
    "people_user": (None, ("username", "team_id", "role", "is_active", "is_superuser")),
}

# PostgreSQL: row triggers, skipped while a bulk load says so (SET LOCAL
# loudou.bulk_load = 'on'; it records one whole-table change instead); the writer's
# transaction id tells readers whether their snapshot saw the row.
PG_FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION loudou_change_{name}() RETURNS trigger AS $$
    BEGIN
      IF current_setting('loudou.bulk_load', true) = 'on' THEN RETURN NULL; END IF;
      IF TG_OP <> 'DELETE' THEN
        INSERT INTO core_change (tbl, deal_id, txid, at)
        VALUES (TG_TABLE_NAME, {new}, pg_current_xact_id()::text::bigint, now());
      END IF;
      IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND {old} IS DISTINCT FROM {new}) THEN
        INSERT INTO core_change (tbl, deal_id, txid, at)
        VALUES (TG_TABLE_NAME, {old}, pg_current_xact_id()::text::bigint, now());
      END IF;
      RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """.format(name=name, new=new, old=old)
    for name, new, old in (
        ("by_id", "NEW.id", "OLD.id"),
        ("by_deal", "NEW.deal_id", "OLD.deal_id"),
        ("table", "NULL::bigint", "NULL::bigint"),
    )
] + [
    """
    CREATE OR REPLACE FUNCTION loudou_change_truncate() RETURNS trigger AS $$
    BEGIN
      INSERT INTO core_change (tbl, deal_id, txid, at)
      VALUES (TG_TABLE_NAME, NULL, pg_current_xact_id()::text::bigint, now());
      RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """
]
PG_FUNCTION_OF = {"id": "by_id", "deal_id": "by_deal", None: "table"}


def pg_install() -> list[str]:
    statements = list(PG_FUNCTIONS)
    for table, (key, columns) in TRACKED.items():
        update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        function = PG_FUNCTION_OF[key]
        statements += [
            f"CREATE TRIGGER {table}_change AFTER INSERT OR {update} OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION loudou_change_{function}();",
            f"CREATE TRIGGER {table}_change_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION loudou_change_truncate();",
        ]
    return statements


def pg_uninstall() -> list[str]:
    statements = []
    for table in TRACKED:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_change ON {table};",
            f"DROP TRIGGER IF EXISTS {table}_change_truncate ON {table};",
        ]
    return statements + [
        f"DROP FUNCTION IF EXISTS loudou_change_{name}();"
        for name in ("by_id", "by_deal", "table", "truncate")
    ]


def sqlite_install() -> list[str]:
    # SQLite has row triggers only; bulk loads drop them for the load and put them back
    # before committing (one writer at a time: nobody sees them missing).
    statements = []
    for table, (key, columns) in TRACKED.items():
        new, old = (f"NEW.{key}", f"OLD.{key}") if key else ("NULL", "NULL")
        insert = "INSERT INTO core_change (tbl, deal_id, at) VALUES ('{t}', {k}, {now});"
        now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
        update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        statements += [
            f"CREATE TRIGGER {table}_change_ins AFTER INSERT ON {table} BEGIN "
            + insert.format(t=table, k=new, now=now)
            + " END;",
            f"CREATE TRIGGER {table}_change_upd AFTER {update} ON {table} BEGIN "
            + insert.format(t=table, k=new, now=now)
            + (
                f" INSERT INTO core_change (tbl, deal_id, at) SELECT '{table}', {old}, {now} "
                f"WHERE {old} IS NOT {new};"
                if key
                else ""
            )
            + " END;",
            f"CREATE TRIGGER {table}_change_del AFTER DELETE ON {table} BEGIN "
            + insert.format(t=table, k=old, now=now)
            + " END;",
        ]
    return statements


def sqlite_uninstall() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_change_{name};"
        for table in TRACKED
        for name in ("ins", "upd", "del")
    ]


# The data-version triggers of 0002, dropped here (and put back when going backwards).
OLD_WATCHED = list(TRACKED)


def old_drop(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {t}_data_version ON {t};" for t in OLD_WATCHED] + [
            "DROP FUNCTION IF EXISTS loudou_bump_data_version();"
        ]
    return [
        f"DROP TRIGGER IF EXISTS {t}_data_version_{name};"
        for t in OLD_WATCHED
        for name in ("ins", "upd", "del")
    ]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in old_drop(vendor):
        schema_editor.execute(sql, params=None)
    for sql in pg_install() if vendor == "postgresql" else sqlite_install():
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    from importlib import import_module

    vendor = schema_editor.connection.vendor
    for sql in pg_uninstall() if vendor == "postgresql" else sqlite_uninstall():
        schema_editor.execute(sql, params=None)
    previous = import_module("loudou.core.migrations.0002_data_version_triggers")
    for sql in previous.install_sql(vendor):
        schema_editor.execute(sql, params=None)
    schema_editor.execute("INSERT INTO core_dataversion (id, seq) VALUES (1, 0)", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_data_version_triggers"),
        ("deals", "0008_amount_limit"),
        ("activities", "0002_initial"),
        ("people", "0002_amount_limit"),
        ("pipelines", "0004_amount_limit"),
    ]

    operations = [
        migrations.CreateModel(
            name="Change",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tbl", models.CharField(max_length=63)),
                ("deal_id", models.BigIntegerField(null=True)),
                ("txid", models.BigIntegerField(null=True)),
                (
                    "at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now()
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("txid__isnull", False)),
                        fields=["txid"],
                        name="core_change_txid",
                    )
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
        migrations.DeleteModel(name="DataVersion"),
    ]
