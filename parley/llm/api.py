"""``POST /llm/infer``: the router as an internal HTTP service for other Parley services and scripts."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from pydantic import ValidationError
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.accounts.roles import MANAGERS
from parley.core.api import TenantReadOnlyViewSet, auth_context
from parley.core.errors import DomainError
from parley.llm.models import LLMCall
from parley.llm.router import LLMUnavailable, complete, default_routing
from parley.llm.schemas import InferMessage, InferRequest, InferResponse, InferUsage
from parley.llm.serializers import LLMCallSerializer
from parley.llm.types import LLMRequest, RoutingConfig


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors()[:20]:
        key = ".".join(str(p) for p in error.get("loc", ())) or "non_field_errors"
        errors.setdefault(key, []).append(str(error.get("msg", "invalid")))
    return errors


def routing_for(hints: InferRequest) -> RoutingConfig:
    """The installation's routing, narrowed and tuned by the caller's hints.

    Raises:
        DomainError: 503 when no LLM is configured; 400 for an unknown backend name.
    """
    configured = default_routing()
    if configured is None:
        raise DomainError(
            "no LLM backend is configured (set PARLEY_LLM_BASE_URL and PARLEY_LLM_MODEL)",
            code="llm_not_configured",
            status_code=503,
        )
    routing = hints.routing
    backends = configured.backends
    if routing.backends is not None:
        by_name = {backend.name: backend for backend in backends}
        unknown = [name for name in routing.backends if name not in by_name]
        if unknown or not routing.backends:
            raise DomainError(f"unknown backend(s): {', '.join(unknown) or '(empty list)'}; configured: {', '.join(by_name)}")
        backends = [by_name[name] for name in routing.backends]
    return configured.model_copy(
        update={
            "backends": backends,
            **{key: value for key in ("temperature", "max_tokens", "timeout_s") if (value := getattr(routing, key)) is not None},
        }
    )


class InferView(APIView):
    """Run one chat completion through the router (fallback, retries, circuit breaker, usage records)."""

    read_roles = MANAGERS
    write_roles = MANAGERS

    @extend_schema(
        operation_id="llm_infer",
        request=InferRequest,
        responses={
            200: InferResponse,
            400: OpenApiResponse(description="Invalid messages, tools or routing hints"),
            503: OpenApiResponse(description="No LLM configured, or every backend failed (code llm_unavailable)"),
        },
        tags=["llm"],
    )
    def post(self, request: Request) -> Response:
        """Messages and tools in (OpenAI shapes); the answer, its tool calls and token usage out. Admins and owners only."""
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        try:
            payload = InferRequest.model_validate(dict(request.data))
        except ValidationError as exc:
            raise exceptions.ValidationError(_field_errors(exc)) from exc
        llm_request = LLMRequest(
            messages=payload.messages,
            tools=payload.tools,
            routing=routing_for(payload),
            tenant_id=str(auth_context(request).tenant.pk),
            assistant_id=payload.assistant_id,
            conversation_id=payload.conversation_id,
            purpose=payload.purpose,
        )
        try:
            response = complete(llm_request)
        except LLMUnavailable as exc:
            return Response({"detail": str(exc), "code": "llm_unavailable"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        body = InferResponse(
            message=InferMessage(content=response.content, tool_calls=response.tool_calls),
            usage=InferUsage(
                prompt_tokens=response.prompt_tokens,
                completion_tokens=response.completion_tokens,
                total_tokens=response.prompt_tokens + response.completion_tokens,
            ),
            backend=response.backend,
            model=response.model,
            latency_ms=response.latency_ms,
            finish_reason=response.finish_reason,
        )
        return Response(body.model_dump(mode="json"))


class LLMCallViewSet(TenantReadOnlyViewSet):
    """Every LLM attempt of the tenant: backend, outcome, latency, tokens and cost (admins and owners)."""

    queryset = LLMCall.objects.all()
    serializer_class = LLMCallSerializer
    read_roles = MANAGERS
    filterset_fields = ["backend", "outcome", "purpose", "assistant_id", "conversation_id"]
