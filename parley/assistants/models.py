"""AI assistant profiles (the assistant issue extends this with versioned prompts and routing)."""

from __future__ import annotations

from django.db import models

from parley.core.models import TenantScopedModel


class Assistant(TenantScopedModel):
    """An AI assistant a tenant configures; conversations record which one served them."""

    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
