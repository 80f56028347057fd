"""Customers and their identities on each channel."""

from __future__ import annotations

from django.db import models

from parley.core.models import TenantScopedModel


class Customer(TenantScopedModel):
    """A person who contacts the business, across any number of channels."""

    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=40, blank=True, db_index=True)
    language = models.CharField(max_length=10, blank=True)
    external_ref = models.CharField(max_length=200, blank=True, help_text="The customer's id in the business's own systems.")
    memory_summary = models.TextField(blank=True)
    merged_into = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or str(self.id)


class CustomerIdentity(TenantScopedModel):
    """How a customer is known on one channel (a phone number on WhatsApp, a PSID on Messenger, ...)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    channel_type = models.CharField(max_length=30)
    external_id = models.CharField(max_length=255)
    display_name = models.CharField(max_length=200, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel_type", "external_id"], name="uniq_identity_tenant_channel_external"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_type}:{self.external_id}"


class CustomerNote(TenantScopedModel):
    """A note a team member wrote about a customer (shown on the Customer 360 page)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField()
    author = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    author_name = models.CharField(max_length=200, blank=True, help_text="Who wrote it (user e-mail or API key label).")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "customer", "created_at"])]

    def __str__(self) -> str:
        return self.text[:50]
