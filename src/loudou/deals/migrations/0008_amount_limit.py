# Amounts bounded (loudou/limits.py): SQLite stores a decimal it cannot hold as a 15-digit
# double, and such a value could not be read back (every page showing it failed). Values
# beyond the bound, which could only have come in before it, are repaired first: a deal's
# amount becomes unknown (null), a payment is capped.

import django.core.validators
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models

from loudou.core.migration_ops import clear_out_of_range, keep_triggers

save_triggers, restore_triggers = keep_triggers("deals_deal", "deals_payment")
MAX = "9999999999999.99"


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('deals', '0007_stageevent_imported'),
        ('people', '0002_amount_limit'),
        ('pipelines', '0004_amount_limit'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        clear_out_of_range("deals_deal", "amount", f"amount > {MAX}", "NULL"),
        clear_out_of_range("deals_payment", "amount", f"amount > {MAX}", MAX),
        save_triggers,
        migrations.AlterField(
            model_name='deal',
            name='amount',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=16, null=True, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(Decimal('9999999999999.99'))], verbose_name='amount'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='amount',
            field=models.DecimalField(decimal_places=2, max_digits=16, validators=[django.core.validators.MinValueValidator(Decimal('0.01')), django.core.validators.MaxValueValidator(Decimal('9999999999999.99'))], verbose_name='amount'),
        ),
        migrations.AddConstraint(
            model_name='deal',
            constraint=models.CheckConstraint(condition=models.Q(('amount__isnull', True), ('amount__lte', Decimal('9999999999999.99')), _connector='OR'), name='deals_deal_amount_lte_max'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(('amount__lte', Decimal('9999999999999.99'))), name='deals_payment_amount_lte_max'),
        ),
        restore_triggers,
    ]
