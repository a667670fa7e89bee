"""A strict Content-Security-Policy for the workers' pages: scripts and styles only from our
own origin, no inline script or style, no plugins, no framing. Data reaches scripts through
``json_script`` elements, which are JSON, never code."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse

from sebenzai.common.middleware import content_security_policy


def worker_csp(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(style_src="'self'")
        return response

    return wrapped
