from django.db import migrations, models


class Migration(migrations.Migration):
    """No query filters or orders deals by source alone, or events by time alone (reports
    read whole tables; event lookups go by deal and time): the two indexes only slowed
    every write. The source index is dropped by name: AlterField would rebuild the table
    on SQLite and lose its triggers."""

    dependencies = [
        ("deals", "0005_drop_redundant_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="stageevent", name="deals_event_at"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="deal",
                    name="source",
                    field=models.CharField(blank=True, max_length=50, verbose_name="source"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS deals_deal_source_a929ee36",
                    "CREATE INDEX deals_deal_source_a929ee36 ON deals_deal (source)",
                ),
            ],
        ),
    ]
