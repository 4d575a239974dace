# Exit criteria's minimum values bounded like amounts (loudou/limits.py); none beyond it
# could be read back on SQLite, so any is cleared first.

import django.core.validators
from decimal import Decimal
from django.db import migrations, models

from loudou.core.migration_ops import clear_out_of_range

MAX = "9999999999999.99"


class Migration(migrations.Migration):

    dependencies = [
        ('pipelines', '0003_probability_adoption'),
    ]

    operations = [
        clear_out_of_range(
            "pipelines_exitcriterion",
            "min_value",
            f"min_value > {MAX} OR min_value < -{MAX}",
            "NULL",
        ),
        migrations.AlterField(
            model_name='exitcriterion',
            name='min_value',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=16, null=True, validators=[django.core.validators.MinValueValidator(Decimal('-9999999999999.99')), django.core.validators.MaxValueValidator(Decimal('9999999999999.99'))], verbose_name='minimum value'),
        ),
        migrations.AddConstraint(
            model_name='exitcriterion',
            constraint=models.CheckConstraint(condition=models.Q(('min_value__isnull', True), models.Q(('min_value__gte', Decimal('-9999999999999.99')), ('min_value__lte', Decimal('9999999999999.99'))), _connector='OR'), name='pipelines_criterion_min_value_range'),
        ),
    ]
