"""The first two middlewares of every request: its id (taken from X-Request-ID when well formed,
made otherwise; sent back on the response, in the logs and in the jobs it publishes), and its
latency in the route histogram. First, so that redirects and refusals by later middlewares are
timed and logged with an id too."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from .context import current_request_id, request_id_accept
from .metrics import REQUEST_LATENCY

HEADER = "X-Request-ID"
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "<unmatched>"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_accept(request.headers.get(HEADER))
        request.request_id = request_id  # for what Django logs after the middlewares return
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response[HEADER] = request_id
        return response


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
