# Customer keys move from bigint[] to packed little-endian int64 (read with numpy). Roll-ups are derived:
# the old rows (MEASURES_VERSION 1) count as missing and are rebuilt by the beat task.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_rollup_measures"),
    ]

    operations = [
        migrations.RemoveField(model_name="dailyrollup", name="customer_keys"),
        migrations.AddField(
            model_name="dailyrollup",
            name="customer_keys",
            field=models.BinaryField(
                blank=True,
                default=bytes,
                help_text="The day's customers' 64-bit keys, sorted little-endian int64 (unique counts)",
            ),
        ),
    ]
