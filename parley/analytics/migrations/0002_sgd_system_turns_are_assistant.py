"""SGD imports made before the fix stored the dataset's SYSTEM side as human agent replies.

SGD's SYSTEM is an automated assistant: store those turns as assistant messages and drop the
derived facts of the affected conversations so they are recomputed (the stale-facts task picks
up conversations without a fact) and agent performance, handover and deflection are right.
"""

from django.db import migrations


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE conversations_message m SET sender_type = 'assistant', updated_at = now()
            FROM conversations_conversation c
            WHERE m.conversation_id = c.id AND c.source = 'sgd' AND m.sender_type = 'agent'
              AND m.external_id LIKE 'sgd:%'
            """
        )
        cursor.execute(
            """
            DELETE FROM analytics_conversationfact f USING conversations_conversation c
            WHERE f.conversation_id = c.id AND c.source = 'sgd'
            """
        )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial"), ("conversations", "0002_outbox_sending")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
