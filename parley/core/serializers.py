from rest_framework import serializers

from parley.core.models import DeadLetter


class DeadLetterSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = DeadLetter
        fields = [
            "id",
            "task_name",
            "task_id",
            "args",
            "kwargs",
            "queue",
            "error",
            "attempts",
            "status",
            "created_at",
            "replayed_at",
        ]
        read_only_fields = fields
