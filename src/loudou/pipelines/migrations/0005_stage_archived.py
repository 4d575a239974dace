# A stage in use is archived, never deleted, and a pipeline can be archived (the settings
# pages). SQLite may add a column by rebuilding the table, which would drop its
# data-version triggers: keep_triggers saves and restores them.

from django.db import migrations, models

from loudou.core.migration_ops import keep_triggers

save_triggers, restore_triggers = keep_triggers("pipelines_stage", "pipelines_pipeline")


class Migration(migrations.Migration):

    dependencies = [
        ('pipelines', '0004_amount_limit'),
    ]

    operations = [
        save_triggers,
        migrations.AddField(
            model_name='stage',
            name='archived',
            field=models.BooleanField(db_default=False, default=False, verbose_name='archived'),
        ),
        migrations.AddField(
            model_name='pipeline',
            name='archived',
            field=models.BooleanField(db_default=False, default=False, verbose_name='archived'),
        ),
        restore_triggers,
    ]
