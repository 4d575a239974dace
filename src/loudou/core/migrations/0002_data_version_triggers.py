from django.db import migrations


def install(apps, schema_editor):
    from loudou.core.db import data_version_sql

    apps.get_model("core", "DataVersion").objects.get_or_create(id=1, defaults={"seq": 0})
    for sql in data_version_sql(schema_editor.connection):
        schema_editor.execute(sql, params=None)


def uninstall(apps, schema_editor):
    from loudou.core.db import drop_data_version_sql

    for sql in drop_data_version_sql(schema_editor.connection):
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
