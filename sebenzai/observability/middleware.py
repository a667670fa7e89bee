"""The first middleware of every request: its id, taken from X-Request-ID when well formed, made
otherwise; sent back on the response, in the logs and in the jobs it publishes. First, so that
redirects and refusals by later middlewares are logged with an id too."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import current_request_id, request_id_accept

HEADER = "X-Request-ID"


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
