"""Guards for API requests: a body-size limit (Django only bounds non-file bodies when code reads
``request.body``; DRF streams JSON, so the limit is enforced here from Content-Length), JSON errors
even where Django answers with a page, and the Content-Security-Policy of every response."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import BODY, error_body, not_found_view, server_error_view
from .store_urls import store_origin


class ApiBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and self._too_large(request):
            body = error_body("request_too_large", "The request body is too large.", BODY)
            return JsonResponse(body, status=413)
        return self.get_response(request)

    @staticmethod
    def _too_large(request: HttpRequest) -> bool:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False
        if request.content_type == "multipart/form-data":
            limits = settings.SEBENZAI
            cap = limits["IMAGE_MAX_BYTES"] * settings.DATA_UPLOAD_MAX_NUMBER_FILES
            return length > max(cap, limits["ARCHIVE_MAX_BYTES"])
        return length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class ApiJsonErrorsMiddleware:
    """With DEBUG on, Django answers a mistyped API URL (404) or a crash (500) with its HTML
    debug page; an API client expects the JSON error envelope, as it gets with DEBUG off. The
    crash is still logged with its traceback by Django's request logger."""

    ERRORS = {404: not_found_view, 500: server_error_view}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        error_view = self.ERRORS.get(response.status_code)
        html = response.get("Content-Type", "").startswith("text/html")
        if error_view and html and request.path.startswith("/api/"):
            return error_view(request)
        return response


# No inline or eval'd script anywhere: a stored script in a label or file name cannot run even if
# a template forgot to escape it. Inline style attributes stay allowed (the admin and the API docs
# use them; they cannot run code). Pages may send a stricter policy of their own.
def content_security_policy(*, style_src: str = "'self' 'unsafe-inline'") -> str:
    """The platform's policy; pages with no inline style at all may pass ``style_src="'self'"``.
    Built per response: images may come from the object store's origin, where a permitted image
    request redirects (MEDIA_DELIVERY=redirect), and the store is configuration, not code."""
    store = store_origin()
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style_src}",
            f"img-src 'self' data: blob: {store}" if store else "img-src 'self' data: blob:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    """Send the platform's Content-Security-Policy on every response that has none of its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = content_security_policy()
        return response
