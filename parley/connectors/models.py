"""A tenant's connected channels (one row per inbox: a WhatsApp number, a web-chat widget, ...)."""

from __future__ import annotations

import secrets

from django.db import models

from parley.core.fields import EncryptedJSONField
from parley.core.models import TenantScopedModel


class ChannelType(models.TextChoices):
    """Kinds of channels; each has a folder under ``parley/connectors/``."""

    WEBCHAT = "webchat", "Web chat"
    WHATSAPP = "whatsapp", "WhatsApp"
    MESSENGER = "messenger", "Messenger"
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    VOICE = "voice", "Phone"
    GENERIC = "generic", "Generic API"
    IMPORT = "import", "Imported dataset"


def _new_key() -> str:
    return secrets.token_urlsafe(18)


class Channel(TenantScopedModel):
    """One connected channel: its type, public key, encrypted credentials and plain config."""

    type = models.CharField(max_length=20, choices=ChannelType.choices)
    name = models.CharField(max_length=200)
    key = models.CharField(max_length=64, unique=True, default=_new_key, help_text="Public id used in webhook and widget URLs.")
    enabled = models.BooleanField(default=True)
    config = models.JSONField(default=dict, blank=True, help_text="Non-secret settings (api_base_url, phone_number_id, ...).")
    credentials = EncryptedJSONField(default=dict, blank=True, help_text="Tokens and secrets, encrypted at rest.")

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}"


class WebhookEventStatus(models.TextChoices):
    """Where a stored webhook delivery stands."""

    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"


class WebhookEvent(TenantScopedModel):
    """The inbox: one verified webhook delivery for one channel, stored before it is parsed.

    The webhook endpoint writes this row (one INSERT) and enqueues ``process_webhook_event`` on the
    ``webhooks`` queue; the task stores the messages and applies the statuses. ``event_key`` is built
    from the provider's message/status ids, so a redelivered event is stored once. ``body`` is the
    raw payload as received (signature-verifiable), kept for audit.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="webhook_events")
    route = models.CharField(max_length=255, blank=True, help_text="The provider account id the events were addressed to.")
    event_key = models.CharField(max_length=64, help_text="sha256 of the provider's event ids (idempotency key).")
    body = models.TextField(help_text="The raw payload, exactly as received.")
    status = models.CharField(max_length=20, choices=WebhookEventStatus.choices, default=WebhookEventStatus.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["channel", "event_key"], name="connectors_webhookevent_unique_key")]
        indexes = [models.Index(fields=["status", "updated_at"], name="connectors_webhookevent_todo")]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.event_key[:12]}:{self.status}"
