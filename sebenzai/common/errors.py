"""Domain errors with a stable code and field, and the one handler that maps every API error to
the JSON envelope ``{"error": {"code", "message", "field", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .object_store import store_down

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


class SlowDown(DomainError):
    """A worker going faster than anyone can honestly label: refused for now, lease kept."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS


class NotFound(DomainError):
    """Also the answer for objects outside the caller's tenant: the body must not depend on
    whether the object exists, so callers pass the same message for both."""

    status_code = status.HTTP_404_NOT_FOUND

    def __init__(self, message: str = "Not found.", *, field: str | None = None) -> None:
        super().__init__(code="not_found", message=message, field=field)


# Errors about the request as a whole (its encoding, size or syntax) name this field.
BODY = "body"


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict:
    return {"error": {"code": code, "message": message, "field": field, **extra}}


def _flatten(detail: Any, prefix: str = "") -> list[dict]:
    """DRF nests errors by field; we list them as ``{"field", "code", "message"}``."""
    if isinstance(detail, dict):
        rows = []
        for key, value in detail.items():
            rows.extend(_flatten(value, _child_name(prefix, key)))
        return rows
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            return [_row(prefix, item) for item in detail]
        rows = []
        for index, item in enumerate(detail):
            rows.extend(_flatten(item, f"{prefix}[{index}]"))
        return rows
    return [_row(prefix, detail)]


def _child_name(prefix: str, key: Any) -> str:
    """ListField reports item errors under int keys: ``labels[1]``, like our services do."""
    if key == "non_field_errors":
        return prefix
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)


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
    response = _error_response(exc)
    request = context.get("request")
    if response is not None and request is not None:
        # An error is JSON even for a browser that asked for the browsable API's HTML.
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
    return response


def _error_response(exc: Exception) -> Response | None:
    if store_down(exc):
        logger.warning("file store unavailable: %s", exc)
        message = "The file store did not answer; try again shortly."
        body = error_body("store_unavailable", message)
        return Response(
            body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"}
        )
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
        body = error_body("request_too_large", "The request body is too large.", BODY)
        return Response(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        return Response(_suspicious_body(exc), status=400)
    if isinstance(exc, exceptions.APIException):
        return _api_exception_response(exc)
    return None


def _api_exception_response(exc: exceptions.APIException) -> Response:
    headers = {}
    if getattr(exc, "auth_header", None):  # a 401 must say how to authenticate (RFC 9110)
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
    field = (
        BODY if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType) else None
    )
    return Response(
        error_body(code, str(exc.detail), field), status=exc.status_code, headers=headers
    )


def _suspicious_body(exc: SuspiciousOperation) -> dict:
    if isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        # ``images`` is the only field of the API that takes many files.
        message = f"Too many files in one request; the limit is {limit}."
        return error_body("too_many_files", message, "images")
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        message = f"Too many fields in one request; the limit is {limit}."
        return error_body("too_many_fields", message, BODY)
    return error_body("bad_request", "The request was malformed.", BODY)


def json_error_view(status_code: int, code: str, message: str):
    """A Django handler (400/403/404/500) that answers API paths with the JSON envelope."""

    def view(request, exception=None):  # noqa: ARG001 - Django's handler signature
        # Compact, like DRF's renderer, so every 404 of the API has the same bytes.
        return JsonResponse(
            error_body(code, message),
            status=status_code,
            json_dumps_params={"separators": (",", ":"), "ensure_ascii": False},
        )

    return view


# The answers to a URL that matches nothing and to a crash, for the URL conf's handlers and for
# the middleware that gives the same answer with DEBUG on.
not_found_view = json_error_view(404, "not_found", "Not found.")
server_error_view = json_error_view(
    500, "internal_error", "Something went wrong on our side; it has been logged."
)
