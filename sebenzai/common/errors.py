"""Domain errors with a stable code and field, and the one handler that maps every API error to
the JSON envelope ``{"error": {"code", "message", "field", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A refusal the caller can act on. Services raise it; the API turns it into a 4xx."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, *, code: str, message: str, field: str | None = None, **extra: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra


class PayloadInvalid(DomainError):
    """An answer (or gold answer) that does not fit the project's kind and labels."""


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(code="not_found", message=message)


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict:
    return {"error": {"code": code, "message": message, "field": field, **extra}}


def _flatten(detail: Any, prefix: str = "") -> list[dict]:
    """DRF nests errors by field; we list them as ``{"field", "code", "message"}``."""
    if isinstance(detail, dict):
        rows = []
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" else f"{prefix}.{key}" if prefix else key
            rows.extend(_flatten(value, str(name)))
        return rows
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            return [_row(prefix, item) for item in detail]
        rows = []
        for index, item in enumerate(detail):
            rows.extend(_flatten(item, f"{prefix}[{index}]"))
        return rows
    return [_row(prefix, detail)]


def _row(field: str, item: Any) -> dict:
    code = getattr(item, "code", "invalid")
    return {"field": field or None, "code": code, "message": str(item)}


def _validation_response(exc: exceptions.ValidationError) -> Response:
    rows = _flatten(exc.detail) or [{"field": None, "code": "invalid", "message": "Invalid."}]
    first = rows[0]
    body = error_body(first["code"], first["message"], first["field"], details=rows)
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error, ours or DRF's or Django's, in one JSON shape."""
    if isinstance(exc, DomainError):
        body = error_body(exc.code, exc.message, exc.field, **exc.extra)
        return Response(body, status=exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(exc)
    if isinstance(exc, Http404):
        return Response(error_body("not_found", "Not found."), status=404)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        body = error_body("request_too_large", "The request body is too large.")
        return Response(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        return Response(error_body("bad_request", _suspicious_message(exc)), status=400)
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        return Response(error_body(code, str(exc.detail)), status=exc.status_code, headers=headers)
    return None


def _suspicious_message(exc: SuspiciousOperation) -> str:
    name = type(exc).__name__
    if name == "TooManyFilesSent":
        return "Too many files in one request."
    if name == "TooManyFieldsSent":
        return "Too many fields in one request."
    return "The request was malformed."


def json_error_view(status_code: int, code: str, message: str):
    """A Django handler (400/403/404/500) that answers API paths with the JSON envelope."""

    def view(request, exception=None):  # noqa: ARG001 - Django's handler signature
        return JsonResponse(error_body(code, message), status=status_code)

    return view
