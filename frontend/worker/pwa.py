"""The installable web app: its manifest and its service worker.

Both are views rather than static files: they name the shell's files by their hashed URLs, which
only the static storage knows, and the service worker is served from the root so that its scope
covers every worker page (/, /label/, /history/, ...). Neither holds anything about a user, so
neither needs a session (browsers fetch the manifest without cookies).

The service worker keeps the app shell only: the workers' content-hashed JS modules, CSS and
icons, which never change under one name. It never answers for the API, task images or pages: a
cached lease or image would outlive its lease, and a page carries the user and a CSRF token.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

THEME_COLOUR = "#143d59"  # the top bar's and the favicon's navy (base.css)
ICON_SIZES = (192, 512)
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@cache
def shell_names() -> tuple[str, ...]:
    """Static names of the worker pages' shell: every worker and shared module, CSS and icons."""
    modules = sorted(
        path.relative_to(STATIC_DIR).as_posix()
        for folder in ("frontend/worker", "frontend/shared")
        for path in (STATIC_DIR / folder).glob("*.js")
    )
    icons = [f"frontend/icons/icon-{size}.png" for size in ICON_SIZES]
    styles = ["frontend/base.css", "frontend/worker/label.css", "frontend/favicon.svg"]
    return (*styles, *modules, *icons)


def shell_urls() -> list[str]:
    """The shell's URLs, content-hashed ones only: a plain name (DEBUG, or the tests' plain
    storage) can change under the same URL, and the service worker serves its cache first."""
    urls = ((name, static(name)) for name in shell_names())
    return [url for name, url in urls if not url.endswith("/" + name.rsplit("/", 1)[-1])]


@require_GET
def web_manifest(request: HttpRequest) -> JsonResponse:
    manifest = {
        "name": "Sebenzai",
        "short_name": "Sebenzai",
        "description": "Label images, earn points.",
        "id": reverse("frontend:label"),
        "start_url": reverse("frontend:label"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f7f9",
        "theme_color": THEME_COLOUR,
        "icons": [
            {
                "src": static(f"frontend/icons/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
            }
            for size in ICON_SIZES
        ],
    }
    response = JsonResponse(manifest, content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"  # it names hashed icons, which change on deploy
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    shell = shell_urls()
    version = hashlib.sha256("\n".join(shell).encode()).hexdigest()[:12]
    script = render_to_string(
        "frontend/worker/sw.js", {"shell": json.dumps(shell), "version": version}
    )
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    # The browser checks for a new worker on every visit (a deploy changes the shell's names).
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response
