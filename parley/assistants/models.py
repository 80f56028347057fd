"""AI assistant profiles: persona and instructions in numbered versions, LLM routing, tools, knowledge,
handover rules, languages and business hours. State changes go through :mod:`parley.assistants.actions`."""

from __future__ import annotations

from django.db import models

from parley.core.models import TenantScopedModel


class Assistant(TenantScopedModel):
    """An AI assistant a tenant configures; conversations record which one served them."""

    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False, help_text="Serves channels no other assistant claims")
    priority = models.IntegerField(default=100, help_text="Lower wins when several assistants' rules match")
    channels = models.ManyToManyField("connectors.Channel", blank=True, related_name="assistants")
    routing_rules = models.JSONField(default=list, blank=True, help_text="List of RoutingRule objects")
    llm = models.JSONField(default=dict, blank=True, help_text="LLMSettings: backends, temperature, max tokens, timeout")
    allowed_tools = models.JSONField(default=list, blank=True)
    intent_tools = models.JSONField(default=dict, blank=True, help_text="Intent → tool the retrieval responder calls")
    knowledge_source_ids = models.JSONField(default=list, blank=True)
    knowledge_tags = models.JSONField(default=list, blank=True)
    knowledge_threshold = models.FloatField(default=0.45, help_text="Minimum fused score for the retrieval responder")
    handover_rules = models.JSONField(default=dict, blank=True)
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639-1 codes it answers in; first is the default")
    business_hours = models.JSONField(default=dict, blank=True)
    active_version = models.ForeignKey(
        "assistants.AssistantVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AssistantVersion(TenantScopedModel):
    """One immutable edit of an assistant's persona and instructions."""

    assistant = models.ForeignKey(Assistant, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    persona = models.TextField(blank=True)
    instructions = models.TextField(blank=True)
    note = models.CharField(max_length=300, blank=True)
    is_draft = models.BooleanField(default=False)
    created_by = models.CharField(max_length=200, blank=True)
    rolled_back_from = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["assistant", "-number"]
        constraints = [models.UniqueConstraint(fields=["assistant", "number"], name="uniq_assistant_version_number")]

    def __str__(self) -> str:
        return f"{self.assistant_id} v{self.number}"
