"""Error codes and the API exception handler: every error is JSON with a code and a reason."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

log = structlog.get_logger(__name__)


class ErrorCode(StrEnum):
    """Machine-readable error codes shared by every app."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    PAYLOAD_TOO_LARGE = "payload_too_large"


class DomainError(Exception):
    """Raised by actions when a request is well-formed but not allowed by the domain's rules."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, code: str = ErrorCode.INVALID, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        if status_code is not None:
            self.status_code = status_code


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render ``{"detail": ..., "code": ..., "errors": {field: [...]}}`` for every API error."""
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "Invalid input.", "code": ErrorCode.INVALID, "errors": _as_field_errors(exc.detail)}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {"detail": str(exc.detail), "code": codes if isinstance(codes, str) else ErrorCode.INVALID}
    log.info("api_error", status=response.status_code, code=response.data.get("code"))
    return response


def _as_field_errors(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {str(key): value for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [str(detail)]}
