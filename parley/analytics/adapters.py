"""Read facts owned by other apps (LLM usage, tool executions, handovers, prompt versions, payments).

Those apps land independently, so each adapter looks for a model with the fields it needs and
returns empty results when there is none. Nothing here writes to another app.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.db import models

from parley.analytics.interface import ToolCallRecord


@dataclass(frozen=True)
class LLMUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    calls: int = 0


def _field_names(model: type[models.Model]) -> set[str]:
    return {f.name for f in model._meta.get_fields()} | {getattr(f, "attname", f.name) for f in model._meta.get_fields()}


@lru_cache(maxsize=32)
def find_model(app_label: str, required: tuple[str, ...], any_of: tuple[str, ...] = ()) -> type[models.Model] | None:
    """The first model of ``app_label`` with every field in ``required`` (and one of ``any_of``)."""
    try:
        config = apps.get_app_config(app_label)
    except LookupError:
        return None
    for model in config.get_models():
        names = _field_names(model)
        if all(name in names for name in required) and (not any_of or any(name in names for name in any_of)):
            return model
    return None


def _first(names: set[str], *candidates: str) -> str | None:
    return next((c for c in candidates if c in names), None)


def llm_usage(conversation_ids: Sequence[Any]) -> dict[str, LLMUsage]:
    """Token usage and cost per conversation from the LLM app's call records (empty if not installed)."""
    model = find_model("llm", ("conversation_id", "prompt_tokens", "completion_tokens"))
    if model is None or not conversation_ids:
        return {}
    conversation_ids = [str(c) for c in conversation_ids]
    names = _field_names(model)
    cost_field = _first(names, "cost", "cost_usd", "total_cost")
    rows: dict[str, LLMUsage] = {}
    values = ["conversation_id", "prompt_tokens", "completion_tokens", *([cost_field] if cost_field else [])]
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0])
    queryset = model._default_manager.filter(conversation_id__in=list(conversation_ids))
    if "purpose" in names:
        queryset = queryset.exclude(purpose="qa")  # grading conversations is not the assistant's cost
    for row in queryset.values_list(*values):
        bucket = totals[str(row[0])]
        bucket[0] += int(row[1] or 0)
        bucket[1] += int(row[2] or 0)
        bucket[2] += float(row[3] or 0.0) if cost_field else 0.0
        bucket[3] += 1
    for key, (prompt, completion, cost, calls) in totals.items():
        rows[key] = LLMUsage(int(prompt), int(completion), float(cost), int(calls))
    return rows


def tool_calls(conversation_ids: Sequence[Any]) -> dict[str, list[ToolCallRecord]]:
    """Tool executions per conversation from the tools app (empty if not installed)."""
    model = find_model("tools", ("conversation_id", "status", "error"), ("tool_name", "name", "tool"))
    if model is None or not conversation_ids:
        return {}
    names = _field_names(model)
    name_field = _first(names, "tool_name", "name", "tool")
    status_field = _first(names, "status", "ok", "succeeded", "success")
    error_field = _first(names, "error", "error_message", "message")
    fields = ["conversation_id", name_field, "created_at"]
    if status_field:
        fields.append(status_field)
    if error_field:
        fields.append(error_field)
    result: dict[str, list[ToolCallRecord]] = defaultdict(list)
    queryset = model._default_manager.filter(conversation_id__in=list(conversation_ids)).order_by("created_at")
    for row in queryset.values(*[f for f in fields if f]):
        status = row.get(status_field) if status_field else None
        ok = status if isinstance(status, bool) else str(status or "ok").lower() not in ("error", "failed", "failure")
        error = str(row.get(error_field) or "") if error_field else ""
        assert name_field is not None
        result[str(row["conversation_id"])].append(
            ToolCallRecord(
                str(row["conversation_id"]), str(row.get(name_field) or ""), ok, row.get("created_at"), "" if ok else error
            )
        )
    return dict(result)


def handover_reasons(conversation_ids: Sequence[Any]) -> dict[str, str]:
    """The reason of each conversation's (latest) handover, from the handover app or audit events."""
    result: dict[str, str] = {}
    if not conversation_ids:
        return result
    model = find_model("handover", ("conversation_id", "reason"))
    if model is not None:
        for conversation_id, reason in (
            model._default_manager.filter(conversation_id__in=list(conversation_ids))
            .order_by("created_at")
            .values_list("conversation_id", "reason")
        ):
            if reason:
                result[str(conversation_id)] = str(reason)[:200]
    audit = find_model("audit", ("action", "target_id", "data"))
    if audit is not None:
        ids = [str(c) for c in conversation_ids]
        for target_id, data in (
            audit._default_manager.filter(action__startswith="handover", target_id__in=ids)
            .order_by("created_at")
            .values_list("target_id", "data")
        ):
            if isinstance(data, dict) and data.get("reason"):
                result.setdefault(str(target_id), str(data["reason"])[:200])
    return result


def prompt_versions(conversation_ids: Sequence[Any]) -> dict[str, str]:
    """The assistant prompt version that served each conversation (for A/B comparisons)."""
    if not conversation_ids:
        return {}
    for app_label in ("orchestrator", "assistants"):
        model = find_model(app_label, ("conversation_id",), ("prompt_version_id", "prompt_version", "assistant_version"))
        if model is None:
            continue
        names = _field_names(model)
        field = _first(names, "prompt_version_id", "prompt_version", "assistant_version")
        assert field is not None
        result: dict[str, str] = {}
        for conversation_id, version in (
            model._default_manager.filter(conversation_id__in=list(conversation_ids))
            .order_by("created_at")
            .values_list("conversation_id", field)
        ):
            if version is not None and version != "" and str(conversation_id) not in result:
                result[str(conversation_id)] = f"v{version}" if isinstance(version, int) else str(version)
        return result
    return {}


def payment_conversions(conversation_ids: Sequence[Any]) -> set[str]:
    """Conversations in which a payment was completed (commerce payments or confirmed money tools)."""
    if not conversation_ids:
        return set()
    converted: set[str] = set()
    model = find_model("commerce", ("conversation_id", "status"), ("amount", "amount_cents", "total"))
    if model is not None:
        converted |= {
            str(c)
            for c in model._default_manager.filter(
                conversation_id__in=list(conversation_ids), status__in=["paid", "succeeded", "completed", "captured"]
            ).values_list("conversation_id", flat=True)
        }
    pending = find_model("tools", ("conversation_id", "status"), ("confirmed_at", "expires_at"))
    if pending is not None:
        converted |= {
            str(c)
            for c in pending._default_manager.filter(
                conversation_id__in=list(conversation_ids), status__in=["confirmed", "executed", "completed"]
            ).values_list("conversation_id", flat=True)
        }
    return converted


def available_sources() -> dict[str, bool]:
    """Which other apps' facts are available right now (reported by the API so partial data is visible)."""
    return {
        "llm_usage": find_model("llm", ("conversation_id", "prompt_tokens", "completion_tokens")) is not None,
        "tool_calls": find_model("tools", ("conversation_id", "status", "error"), ("tool_name", "name", "tool")) is not None,
        "handover_reasons": find_model("handover", ("conversation_id", "reason")) is not None,
        "prompt_versions": any(
            find_model(a, ("conversation_id",), ("prompt_version_id", "prompt_version", "assistant_version")) is not None
            for a in ("orchestrator", "assistants")
        ),
        "payments": find_model("commerce", ("conversation_id", "status"), ("amount", "amount_cents", "total")) is not None
        or find_model("tools", ("conversation_id", "status"), ("confirmed_at", "expires_at")) is not None,
    }


def fallback_replies(conversation_ids: Sequence[Any]) -> set[str]:
    """Ids of assistant replies the orchestrator produced with low confidence or as a clarification."""
    model = find_model("orchestrator", ("conversation_id", "reply_message_id", "low_confidence"))
    if model is None or not conversation_ids:
        return set()
    names = _field_names(model)
    condition = models.Q(low_confidence=True)
    if "outcome" in names:
        condition |= models.Q(outcome__in=["clarify", "fallback"])
    return {
        str(m)
        for m in model._default_manager.filter(
            condition, conversation_id__in=list(conversation_ids), reply_message_id__isnull=False
        ).values_list("reply_message_id", flat=True)
    }


def ids(values: Iterable[Any]) -> list[str]:
    return [str(v) for v in values]
