"""Times each request into the route histogram (sebenzai/metrics/collectors.py). Second in
MIDDLEWARE, after the request id: redirects and refusals by later middlewares are timed too."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from .collectors import REQUEST_LATENCY

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "<unmatched>"


class RequestMetricsMiddleware:
    """Times each request into ``sebenzai_http_request_duration_seconds`` by route pattern
    (never the path: no ids in labels), method and status class. The time is until the view
    returns its response; a streamed body is not included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        REQUEST_LATENCY.labels(
            route=route_of(request),
            method=request.method if request.method in METHODS else "other",
            status=f"{response.status_code // 100}xx",
        ).observe(time.perf_counter() - started)
        return response


def route_of(request: HttpRequest) -> str:
    """The URL pattern the request matched, e.g. ``/api/v1/tasks/<uuid:task_id>/image/``. A
    request answered before URL resolution (an HTTPS redirect) is resolved here."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return UNMATCHED
    return "/" + str(match.route)
