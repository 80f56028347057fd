"""AI economics: LLM tokens and cost, tool usage, payment conversion, and A/B tests of prompt versions."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from parley.analytics import adapters
from parley.analytics.interface import AnalyticsFilter
from parley.analytics.metrics import cube
from parley.analytics.metrics.query import filtered_facts
from parley.analytics.models import ConversationFact


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def economics(queryset: QuerySet[ConversationFact]) -> dict[str, Any]:
    """Token usage and cost per conversation and per resolution, tool calls and failures, payments."""
    row = queryset.aggregate(
        n=Count("id"),
        resolved_n=Count("id", filter=Q(resolved=True)),
        prompt=Coalesce(Sum("prompt_tokens"), 0),
        completion=Coalesce(Sum("completion_tokens"), 0),
        cost=Coalesce(Sum("llm_cost"), 0.0),
        tools=Coalesce(Sum("tool_calls"), 0),
        tool_errors_n=Coalesce(Sum("tool_errors"), 0),
        with_tools=Count("id", filter=Q(tool_calls__gt=0)),
        payment_intent_n=Count("id", filter=Q(payment_intent=True)),
        converted=Count("id", filter=Q(payment_intent=True, payment_converted=True)),
    )
    return _economics_shape(row, queryset)


def economics_for(tenant: Any, flt: AnalyticsFilter) -> dict[str, Any]:
    """:func:`economics` of the facts ``flt`` selects; the sums come from the roll-ups when they can answer."""
    measures = cube.load_single(tenant, flt)
    queryset = filtered_facts(tenant, flt)
    if measures is None:
        return economics(queryset)
    get = measures.get
    row = {
        "n": int(get("conversations")),
        "resolved_n": int(get("resolved")),
        "prompt": int(get("prompt_tokens")),
        "completion": int(get("completion_tokens")),
        "cost": float(get("llm_cost")),
        "tools": int(get("tool_calls")),
        "tool_errors_n": int(get("tool_errors")),
        "with_tools": int(get("with_tools")),
        "payment_intent_n": int(get("payment_intent")),
        "converted": int(get("payment_converted")),
    }
    return _economics_shape(row, queryset)


def _economics_shape(row: dict[str, Any], queryset: QuerySet[ConversationFact]) -> dict[str, Any]:
    return {
        "conversations": row["n"],
        "prompt_tokens": row["prompt"],
        "completion_tokens": row["completion"],
        "tokens_per_conversation": _rate(row["prompt"] + row["completion"], row["n"]),
        "cost": round(row["cost"], 6),
        "cost_per_conversation": _rate(row["cost"], row["n"]),
        "cost_per_resolution": _rate(row["cost"], row["resolved_n"]),
        "tool_calls": row["tools"],
        "tool_calls_per_conversation": _rate(row["tools"], row["n"]),
        "tool_failure_rate": _rate(row["tool_errors_n"], row["tools"]),
        "tool_usage": tool_usage(queryset) if row["tools"] else [],
        "payment_intent_conversations": row["payment_intent_n"],
        "payment_conversion_rate": _rate(row["converted"], row["payment_intent_n"]),
        "sources": adapters.available_sources(),
    }


def tool_usage(queryset: QuerySet[ConversationFact], limit: int = 5000) -> list[dict[str, Any]]:
    """Calls and failures per tool name (read from the tools app; empty when it is not installed)."""
    ids = list(queryset.filter(tool_calls__gt=0).order_by("-started_at").values_list("conversation_id", flat=True)[:limit])
    per_tool: dict[str, list[int]] = {}
    for calls in adapters.tool_calls(ids).values():
        for call in calls:
            bucket = per_tool.setdefault(call.name, [0, 0])
            bucket[0] += 1
            bucket[1] += int(not call.ok)
    return [
        {"tool": name, "calls": calls, "failures": failures, "failure_rate": _rate(failures, calls)}
        for name, (calls, failures) in sorted(per_tool.items(), key=lambda kv: -kv[1][0])
    ]


def variant_for(conversation_id: str, variants: Sequence[str], weights: Sequence[float] | None = None) -> str:
    """Deterministic traffic split per conversation: the same conversation always gets the same variant.

    Args:
        conversation_id: the conversation's id.
        variants: e.g. ``["v3", "v4"]`` (prompt version ids).
        weights: relative traffic per variant (equal when omitted).
    """
    if not variants:
        raise ValueError("no variants")
    weights = list(weights or [1.0] * len(variants))
    if len(weights) != len(variants) or any(w < 0 for w in weights) or not sum(weights):
        raise ValueError("weights must be non-negative, one per variant, not all zero")
    bucket = int(hashlib.sha256(str(conversation_id).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF * sum(weights)
    cumulative = 0.0
    for variant, weight in zip(variants, weights, strict=True):
        cumulative += weight
        if bucket <= cumulative:
            return variant
    return variants[-1]


def two_proportion_test(successes_a: int, n_a: int, successes_b: int, n_b: int) -> dict[str, Any]:
    """Two-sided z-test for a difference in proportions (pooled standard error)."""
    if not n_a or not n_b:
        return {"z": None, "p_value": None, "significant": False}
    pa, pb = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return {"z": None, "p_value": 1.0 if pa == pb else 0.0, "significant": pa != pb}
    z = (pb - pa) / se
    p = math.erfc(abs(z) / math.sqrt(2))
    return {"z": round(z, 3), "p_value": round(p, 5), "significant": p < 0.05}


def welch_test(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """Welch's t-test for a difference in means (e.g. CSAT)."""
    if len(a) < 2 or len(b) < 2:
        return {"t": None, "p_value": None, "significant": False}
    from scipy import stats

    result = stats.ttest_ind(list(a), list(b), equal_var=False)
    t, p = float(result.statistic), float(result.pvalue)
    if math.isnan(p):
        return {"t": None, "p_value": None, "significant": False}
    return {"t": round(t, 3), "p_value": round(p, 5), "significant": p < 0.05}


def ab_comparison(queryset: QuerySet[ConversationFact], version_a: str, version_b: str) -> dict[str, Any]:
    """Metrics of two prompt versions side by side, with significance tests."""
    rows = {}
    for label, version in (("a", version_a), ("b", version_b)):
        subset = queryset.filter(prompt_version=version)
        row = subset.aggregate(
            n=Count("id"),
            resolved_n=Count("id", filter=Q(resolved=True)),
            ai_resolved_n=Count("id", filter=Q(ai_resolved=True)),
            handed_over_n=Count("id", filter=Q(handed_over=True)),
            csat=Avg("csat_score"),
            cost=Coalesce(Sum("llm_cost"), 0.0),
        )
        csat_values = [
            float(v or 0) for v in subset.filter(csat_score__isnull=False).values_list("csat_score", flat=True)[:100000]
        ]
        rows[label] = (version, row, csat_values)
    return _ab_shape(rows, versions(queryset))


def ab_comparison_for(tenant: Any, flt: AnalyticsFilter, version_a: str, version_b: str) -> dict[str, Any]:
    """:func:`ab_comparison` of the facts ``flt`` selects, from the ``prompt_version`` roll-ups when they can
    answer (the CSAT answers are rebuilt from the per-score counts, so the Welch test is the same)."""
    groups = None if cube.filter_dimensions(flt) else cube.load_cube(tenant, flt, "prompt_version")
    if groups is None:
        return ab_comparison(filtered_facts(tenant, flt), version_a, version_b)
    rows = {}
    for label, version in (("a", version_a), ("b", version_b)):
        m = groups.get(version[:200], cube.Measures())
        get = m.get
        row = {
            "n": int(get("conversations")),
            "resolved_n": int(get("resolved")),
            "ai_resolved_n": int(get("ai_resolved")),
            "handed_over_n": int(get("handed_over")),
            "csat": m.avg("csat"),
            "cost": float(get("llm_cost")),
        }
        csat_values = [float(score) for score in range(1, 6) for _ in range(int(get(f"csat_{score}")))]
        rows[label] = (version, row, csat_values)
    seen = sorted(
        ((key, int(m.get("conversations"))) for key, m in groups.items() if key and m.get("conversations")),
        key=lambda item: (-item[1], item[0]),
    )[:50]
    return _ab_shape(rows, [{"prompt_version": v, "conversations": n} for v, n in seen])


def _ab_shape(rows: dict[str, tuple[str, dict[str, Any], list[float]]], available: list[dict[str, Any]]) -> dict[str, Any]:
    groups = {}
    for label, (version, row, csat_values) in rows.items():
        groups[label] = {
            "prompt_version": version,
            "conversations": row["n"],
            "resolution_rate": _rate(row["resolved_n"], row["n"]),
            "ai_resolution_rate": _rate(row["ai_resolved_n"], row["n"]),
            "handover_rate": _rate(row["handed_over_n"], row["n"]),
            "csat_avg": round(row["csat"], 2) if row["csat"] is not None else None,
            "cost_per_conversation": _rate(row["cost"], row["n"]),
            "_counts": row,
            "_csat": csat_values,
        }
    a, b = groups["a"], groups["b"]
    tests = {
        "ai_resolution_rate": two_proportion_test(
            a["_counts"]["ai_resolved_n"], a["_counts"]["n"], b["_counts"]["ai_resolved_n"], b["_counts"]["n"]
        ),
        "resolution_rate": two_proportion_test(
            a["_counts"]["resolved_n"], a["_counts"]["n"], b["_counts"]["resolved_n"], b["_counts"]["n"]
        ),
        "handover_rate": two_proportion_test(
            a["_counts"]["handed_over_n"], a["_counts"]["n"], b["_counts"]["handed_over_n"], b["_counts"]["n"]
        ),
        "csat_avg": welch_test(a["_csat"], b["_csat"]),
    }
    for group in groups.values():
        group.pop("_counts")
        group.pop("_csat")
    return {"a": a, "b": b, "tests": tests, "versions_available": available}


def versions(queryset: QuerySet[ConversationFact]) -> list[dict[str, Any]]:
    """Prompt versions seen in ``queryset`` with their conversation counts."""
    return [
        {"prompt_version": v, "conversations": n}
        for v, n in queryset.exclude(prompt_version="")
        .values_list("prompt_version")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("prompt_version", "n")[:50]
    ]
