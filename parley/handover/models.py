"""Agents' availability and capacity, the handover queue, canned responses and suggested replies.

State changes go through :mod:`parley.handover.actions`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from parley.core.models import TenantScopedModel


class AgentStatus(models.TextChoices):
    ONLINE = "online", "Online"
    AWAY = "away", "Away"
    OFFLINE = "offline", "Offline"


class AgentProfile(TenantScopedModel):
    """A member's availability for live conversations (one per membership)."""

    membership = models.OneToOneField("accounts.Membership", on_delete=models.CASCADE, related_name="agent_profile")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=AgentStatus.choices, default=AgentStatus.OFFLINE, db_index=True)
    capacity = models.PositiveIntegerField(default=5, help_text="Conversations the agent handles at once")
    skills = models.JSONField(default=list, blank=True, help_text="Teams/skills, matched against the handover's team")
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639-1 codes; empty means any")
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.user_id} ({self.status})"


class HandoverState(models.TextChoices):
    QUEUED = "queued", "Waiting in the queue"
    ASSIGNED = "assigned", "Assigned"
    HANDED_BACK = "handed_back", "Handed back to the assistant"
    CLOSED = "closed", "Closed"


class Handover(TenantScopedModel):
    """One hand-over of a conversation from the assistant to people, with its summary and routing."""

    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="handovers")
    reason = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    summary_source = models.CharField(max_length=20, default="template")
    state = models.CharField(max_length=20, choices=HandoverState.choices, default=HandoverState.QUEUED, db_index=True)
    team = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=10, blank=True)
    strategy = models.CharField(max_length=20, default="least_loaded")
    requested_by = models.CharField(max_length=200, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    queued_at = models.DateTimeField()
    assigned_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["queued_at"]
        indexes = [models.Index(fields=["tenant", "state", "queued_at"])]

    def __str__(self) -> str:
        return f"handover {self.conversation_id} ({self.state})"


class CannedResponse(TenantScopedModel):
    """A saved reply an agent inserts with ``/shortcut``; ``{{customer.name}}``-style variables are filled in."""

    shortcut = models.SlugField(max_length=50)
    title = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    language = models.CharField(max_length=10, blank=True)
    created_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["shortcut"]
        constraints = [models.UniqueConstraint(fields=["tenant", "shortcut", "language"], name="uniq_canned_shortcut")]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    USED = "used", "Used"
    DISMISSED = "dismissed", "Dismissed"


class Suggestion(TenantScopedModel):
    """A reply the assistant drafted for the agent while a human owns the conversation (never sent by itself)."""

    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="suggestions")
    message = models.ForeignKey("conversations.Message", on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    source = models.CharField(max_length=20, default="retrieval")
    citations = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.PENDING)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["message"], name="uniq_suggestion_per_message")]
