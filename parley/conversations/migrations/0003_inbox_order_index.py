from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0002_outbox_sending"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(fields=["tenant", "-last_message_at", "-created_at"], name="conv_tenant_inbox_order"),
        ),
    ]
