"""State changes of assistant profiles: create, edit (each persona/instructions edit is a new version),
draft versions, publish, roll back; and which assistant serves a conversation."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import structlog
from django.db import transaction
from django.db.models import Max
from pydantic import TypeAdapter, ValidationError

from parley.accounts.models import Tenant
from parley.assistants.models import Assistant, AssistantVersion
from parley.assistants.schemas import BusinessHours, HandoverRules, LLMSettings, RoutingRule
from parley.audit.actions import record_audit_event
from parley.core.errors import DomainError, ErrorCode

log = structlog.get_logger(__name__)

VERSIONED_FIELDS = ("persona", "instructions")
_CONFIG_MODELS: dict[str, Any] = {
    "llm": LLMSettings,
    "handover_rules": HandoverRules,
    "business_hours": BusinessHours,
}
_RULES = TypeAdapter(list[RoutingRule])


def validate_config(field: str, value: Any) -> Any:
    """Validate one JSON configuration block; raises DomainError (400) with the reason."""
    try:
        if field in _CONFIG_MODELS:
            return _CONFIG_MODELS[field].model_validate(value).model_dump(mode="json", exclude_defaults=False)
        if field == "routing_rules":
            return [rule.model_dump(mode="json") for rule in _RULES.validate_python(value)]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise DomainError(f"{field}.{where}: {first.get('msg')}" if where else f"{field}: {first.get('msg')}") from exc
    return value


def _next_number(assistant: Assistant) -> int:
    current = AssistantVersion.objects.filter(assistant=assistant).aggregate(top=Max("number"))["top"]
    return int(current or 0) + 1


def create_assistant(*, tenant: Tenant, data: dict[str, Any], actor: str) -> Assistant:
    """Create an assistant and its first version from ``persona`` / ``instructions`` in ``data``."""
    data = dict(data)
    persona = data.pop("persona", "")
    instructions = data.pop("instructions", "")
    channels = data.pop("channels", None)
    for field in (*_CONFIG_MODELS, "routing_rules"):
        if field in data:
            data[field] = validate_config(field, data[field])
    with transaction.atomic():
        assistant = Assistant.objects.create(tenant=tenant, **data)
        if channels is not None:
            assistant.channels.set(channels)
        version = AssistantVersion.objects.create(
            tenant=tenant,
            assistant=assistant,
            number=1,
            persona=persona,
            instructions=instructions,
            note="created",
            created_by=actor,
        )
        assistant.active_version = version
        assistant.save(update_fields=["active_version", "updated_at"])
        record_audit_event(
            tenant=tenant, actor=actor, action="assistant.created", target=assistant, data={"name": assistant.name}
        )
    return assistant


def update_assistant(*, assistant: Assistant, data: dict[str, Any], actor: str) -> Assistant:
    """Change settings; a changed persona or instructions becomes a new, active version."""
    data = dict(data)
    channels = data.pop("channels", None)
    versioned = {name: data.pop(name) for name in VERSIONED_FIELDS if name in data}
    for field in (*_CONFIG_MODELS, "routing_rules"):
        if field in data:
            data[field] = validate_config(field, data[field])
    with transaction.atomic():
        assistant = Assistant.objects.select_for_update().get(pk=assistant.pk)
        for name, value in data.items():
            setattr(assistant, name, value)
        if channels is not None:
            assistant.channels.set(channels)
        active = assistant.active_version
        if versioned and (active is None or any(getattr(active, name) != value for name, value in versioned.items())):
            version = AssistantVersion.objects.create(
                tenant_id=assistant.tenant_id,
                assistant=assistant,
                number=_next_number(assistant),
                persona=versioned.get("persona", active.persona if active else ""),
                instructions=versioned.get("instructions", active.instructions if active else ""),
                note="edited",
                created_by=actor,
            )
            assistant.active_version = version
        assistant.save()
        record_audit_event(
            tenant=assistant.tenant,
            actor=actor,
            action="assistant.updated",
            target=assistant,
            data={"fields": sorted({*data, *versioned})},
        )
    return assistant


def create_version(
    *, assistant: Assistant, persona: str, instructions: str, note: str = "", publish: bool, actor: str
) -> AssistantVersion:
    """Add a version; a draft (``publish=False``) can be tried in the test chat before it goes live."""
    with transaction.atomic():
        assistant = Assistant.objects.select_for_update().get(pk=assistant.pk)
        version = AssistantVersion.objects.create(
            tenant_id=assistant.tenant_id,
            assistant=assistant,
            number=_next_number(assistant),
            persona=persona,
            instructions=instructions,
            note=note,
            is_draft=not publish,
            created_by=actor,
        )
        if publish:
            assistant.active_version = version
            assistant.save(update_fields=["active_version", "updated_at"])
    return version


def publish_version(*, assistant: Assistant, number: int, actor: str) -> AssistantVersion:
    """Make a (draft) version the active one."""
    with transaction.atomic():
        assistant = Assistant.objects.select_for_update().get(pk=assistant.pk)
        version = get_version(assistant, number)
        if version.is_draft:
            version.is_draft = False
            version.save(update_fields=["is_draft", "updated_at"])
        assistant.active_version = version
        assistant.save(update_fields=["active_version", "updated_at"])
        record_audit_event(
            tenant=assistant.tenant, actor=actor, action="assistant.version_published", target=assistant, data={"number": number}
        )
    return version


def rollback(*, assistant: Assistant, number: int, actor: str) -> AssistantVersion:
    """Roll back to version ``number``: a new active version with its content (history is kept)."""
    with transaction.atomic():
        assistant = Assistant.objects.select_for_update().get(pk=assistant.pk)
        target = get_version(assistant, number)
        version = AssistantVersion.objects.create(
            tenant_id=assistant.tenant_id,
            assistant=assistant,
            number=_next_number(assistant),
            persona=target.persona,
            instructions=target.instructions,
            note=f"rollback to v{number}",
            created_by=actor,
            rolled_back_from=number,
        )
        assistant.active_version = version
        assistant.save(update_fields=["active_version", "updated_at"])
        record_audit_event(
            tenant=assistant.tenant, actor=actor, action="assistant.rolled_back", target=assistant, data={"to": number}
        )
    return version


def get_version(assistant: Assistant, number: int) -> AssistantVersion:
    """Version ``number`` of ``assistant``; a 404 DomainError when it does not exist."""
    version = AssistantVersion.objects.filter(assistant=assistant, number=number).first()
    if version is None:
        raise DomainError(f"assistant has no version {number}", code=ErrorCode.NOT_FOUND, status_code=404)
    return version


@dataclass(frozen=True)
class VersionDiff:
    """Unified diffs of the versioned fields between two versions."""

    from_number: int
    to_number: int
    fields: dict[str, str]


def diff_versions(*, assistant: Assistant, from_number: int, to_number: int) -> VersionDiff:
    """Line diff of persona and instructions from one version to another."""
    old, new = get_version(assistant, from_number), get_version(assistant, to_number)
    fields: dict[str, str] = {}
    for name in VERSIONED_FIELDS:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            fields[name] = "".join(
                difflib.unified_diff(
                    before.splitlines(keepends=True) or [""],
                    after.splitlines(keepends=True) or [""],
                    fromfile=f"v{from_number}/{name}",
                    tofile=f"v{to_number}/{name}",
                )
            )
    return VersionDiff(from_number, to_number, fields)


def _rule_matches(rule: RoutingRule, *, channel_type: str, channel_id: str, language: str, text: str) -> bool:
    if rule.channel_types and channel_type not in rule.channel_types:
        return False
    if rule.channel_ids and channel_id not in rule.channel_ids:
        return False
    if rule.languages and language and language not in rule.languages:
        return False
    lowered = text.lower()
    return not (rule.keywords and not any(keyword.lower() in lowered for keyword in rule.keywords))


def select_assistant(*, tenant_id: Any, channel: Any, language: str = "", text: str = "") -> Assistant | None:
    """Which assistant serves a new conversation on ``channel``.

    Order: an enabled assistant whose routing rule matches (lowest priority first), then one linked to
    the channel, then the tenant's default assistant.
    """
    candidates = list(
        Assistant.objects.filter(tenant_id=tenant_id, enabled=True)
        .select_related("active_version")
        .prefetch_related("channels")
        .order_by("priority", "name")
    )
    for assistant in candidates:
        for raw in assistant.routing_rules or []:
            rule = RoutingRule.model_validate(raw)
            if _rule_matches(rule, channel_type=channel.type, channel_id=str(channel.id), language=language, text=text):
                return assistant
    for assistant in candidates:
        if any(linked.pk == channel.pk for linked in assistant.channels.all()):
            return assistant
    return next((assistant for assistant in candidates if assistant.is_default), None)


def settings_of(assistant: Assistant | None) -> tuple[LLMSettings, HandoverRules, BusinessHours]:
    """The typed configuration blocks of ``assistant`` (defaults when unset or None)."""
    if assistant is None:
        return LLMSettings(), HandoverRules(), BusinessHours()
    return (
        LLMSettings.model_validate(assistant.llm or {}),
        HandoverRules.model_validate(assistant.handover_rules or {}),
        BusinessHours.model_validate(assistant.business_hours or {}),
    )


def delete_assistant(*, assistant: Assistant, actor: str) -> None:
    """Delete an assistant; its conversations keep their history and fall back to routing."""
    record_audit_event(
        tenant=assistant.tenant, actor=actor, action="assistant.deleted", target=assistant, data={"name": assistant.name}
    )
    assistant.delete()
