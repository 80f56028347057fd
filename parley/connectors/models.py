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
