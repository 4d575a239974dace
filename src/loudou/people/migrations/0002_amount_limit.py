# Amounts bounded (loudou/limits.py): SQLite stores a decimal it cannot hold as a 15-digit
# double, and such a value could not be read back (every page showing it failed). Values
# beyond the bound, which could only have come in before it, are repaired first: a quota is
# capped.

import django.core.validators
from decimal import Decimal
from django.db import migrations, models

from loudou.core.migration_ops import clear_out_of_range, keep_triggers

save_triggers, restore_triggers = keep_triggers("people_quota")
MAX = "9999999999999.99"


class Migration(migrations.Migration):

    dependencies = [
        ('people', '0001_initial'),
    ]

    operations = [
        clear_out_of_range("people_quota", "amount", f"amount > {MAX}", MAX),
        save_triggers,
        migrations.AlterField(
            model_name='quota',
            name='amount',
            field=models.DecimalField(decimal_places=2, max_digits=16, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(Decimal('9999999999999.99'))], verbose_name='amount'),
        ),
        migrations.AddConstraint(
            model_name='quota',
            constraint=models.CheckConstraint(condition=models.Q(('amount__lte', Decimal('9999999999999.99'))), name='people_quota_amount_lte_max'),
        ),
        restore_triggers,
    ]
