"""Conversations, messages, attachments, tickets and follow-up tasks.

State changes go through :mod:`parley.conversations.actions`; nothing else writes these rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from parley.core.models import TenantScopedModel


class ConversationStatus(models.TextChoices):
    """Where a conversation stands; ``bot`` means the assistant owns it, ``assigned`` a human."""

    OPEN = "open", "Open"
    BOT = "bot", "With the assistant"
    PENDING_HUMAN = "pending_human", "Waiting for a human"
    ASSIGNED = "assigned", "Assigned to an agent"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Conversation(TenantScopedModel):
    """A thread between one customer and the business on one channel."""

    channel = models.ForeignKey("connectors.Channel", on_delete=models.PROTECT, related_name="conversations")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="conversations")
    assistant = models.ForeignKey(
        "assistants.Assistant", on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_conversations"
    )
    team = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=ConversationStatus.choices, default=ConversationStatus.BOT, db_index=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    labels = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    language = models.CharField(max_length=10, blank=True)
    source = models.CharField(max_length=20, default="live", help_text="live, or the dataset it was imported from")
    external_id = models.CharField(max_length=255, blank=True, help_text="Id in the source dataset or provider thread")
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    unread_count = models.PositiveIntegerField(default=0)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-last_message_at", "-created_at"]
        indexes = [
            models.Index(fields=["tenant", "status", "-last_message_at"]),
            # The inbox list: a tenant's conversations in the default ordering, read a page at a time.
            models.Index(fields=["tenant", "-last_message_at", "-created_at"], name="conv_tenant_inbox_order"),
            models.Index(fields=["tenant", "created_at"]),
            models.Index(fields=["customer", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"conversation {self.id} ({self.status})"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class SenderType(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    ASSISTANT = "assistant", "Assistant"
    AGENT = "agent", "Agent"
    SYSTEM = "system", "System"


class DeliveryStatus(models.TextChoices):
    """Inbound messages are ``received``; outbound ones move queued → sending → sent → delivered → read,
    or failed. ``sending`` marks a delivery attempt whose outcome is not yet recorded (the outbox's
    idempotency marker)."""

    RECEIVED = "received", "Received"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"


class Message(TenantScopedModel):
    """One message in a conversation, in either direction; private notes never leave the inbox."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    channel = models.ForeignKey("connectors.Channel", on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    sender_type = models.CharField(max_length=10, choices=SenderType.choices)
    sender_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    text = models.TextField(blank=True)
    content_type = models.CharField(max_length=20, default="text")
    is_private = models.BooleanField(default=False)
    external_id = models.CharField(max_length=255, blank=True, help_text="Provider id of an inbound message (idempotency)")
    provider_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    delivery_status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED)
    delivery_error = models.TextField(blank=True)
    delivery_attempts = models.PositiveIntegerField(default=0)
    sending_started_at = models.DateTimeField(null=True, blank=True, help_text="When the current delivery attempt began")
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    buttons = models.JSONField(default=list, blank=True, help_text="Quick-reply buttons offered with an outbound message")
    analysis = models.JSONField(default=dict, blank=True, help_text="Intent, sentiment, language, ... of this message")
    sent_by_client_at = models.DateTimeField(null=True, blank=True, help_text="Timestamp the channel reported")

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="uniq_message_channel_external_id",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at"]),
            models.Index(fields=["tenant", "created_at"]),
            models.Index(
                fields=["delivery_status", "updated_at"],
                condition=Q(delivery_status__in=["queued", "sending"]),
                name="message_outbox_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.sender_type}: {self.text[:40]}"


class Attachment(TenantScopedModel):
    """A file sent with a message (image, audio, voice note, document, video)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=20, default="file")
    mime_type = models.CharField(max_length=100, blank=True)
    file = models.FileField(upload_to="attachments/%Y/%m/", blank=True)
    url = models.URLField(max_length=1000, blank=True)
    provider_media_id = models.CharField(max_length=255, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


class Ticket(TenantScopedModel):
    """Work that outlives a conversation (an investigation, a return, a bug report)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="tickets")
    conversation = models.ForeignKey(Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets")
    subject = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN, db_index=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.CharField(max_length=200, blank=True, help_text="Who opened it: a user, an API key or the assistant")

    class Meta:
        ordering = ["-created_at"]


class FollowUpStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


class FollowUpTask(TenantScopedModel):
    """A message to send to a customer at a later time (sent by Celery beat)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="followups")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="followups")
    due_at = models.DateTimeField(db_index=True)
    text = models.TextField()
    status = models.CharField(max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.SCHEDULED, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["due_at"]
