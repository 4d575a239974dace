from django.db import migrations


def create_lost_reasons(apps, schema_editor):
    from loudou.pipelines.defaults import DEFAULT_LOST_REASONS

    LostReason = apps.get_model("deals", "LostReason")
    for key, zh, en in DEFAULT_LOST_REASONS:
        LostReason.objects.get_or_create(key=key, defaults={"name_zh": zh, "name_en": en})


def add_append_only_guard(apps, schema_editor):
    from loudou.core.db import append_only_sql

    for sql in append_only_sql(schema_editor.connection, "deals_stageevent"):
        schema_editor.execute(sql, params=None)


def drop_append_only_guard(apps, schema_editor):
    from loudou.core.db import drop_append_only_sql

    for sql in drop_append_only_sql(schema_editor.connection, "deals_stageevent"):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("deals", "0002_initial")]
    operations = [
        migrations.RunPython(create_lost_reasons, migrations.RunPython.noop),
        migrations.RunPython(add_append_only_guard, drop_append_only_guard),
    ]
