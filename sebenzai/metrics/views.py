"""``GET /metrics``: the Prometheus text format, for staff signed in or for a scraper sending
``Authorization: Bearer <METRICS_TOKEN>``; anyone else gets the platform's JSON error (401 when
not authenticated, 403 for a signed-in non-staff user). Never cached, never rate-limited."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from sebenzai.common.errors import error_body

from .collectors import registry_for_scrape


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(generate_latest(registry_for_scrape()), content_type=CONTENT_TYPE_LATEST)


def _refusal(request: HttpRequest) -> JsonResponse | None:
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        expected = settings.METRICS_TOKEN
        # compare_digest: the time taken says nothing about how much of the token matched
        if expected and hmac.compare_digest(credential.strip().encode(), expected.encode()):
            return None
        return _unauthorized("authentication_failed", "Invalid token.")
    user = request.user
    if user.is_authenticated and user.is_staff:
        return None
    if user.is_authenticated:
        body = error_body("permission_denied", "You do not have permission to do this.")
        return JsonResponse(body, status=403)
    return _unauthorized("not_authenticated", "Authentication credentials were not provided.")


def _unauthorized(code: str, message: str) -> JsonResponse:
    response = JsonResponse(error_body(code, message), status=401)
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response
