"""An LLMCall of another tenant, for the core API-access test."""

from __future__ import annotations

from typing import Any

from parley.llm.models import LLMCall


def llm_area_objects(other: Any) -> dict[type, Any]:
    return {LLMCall: LLMCall.objects.create(tenant=other, backend="globex", model="secret-model", outcome="ok")}
