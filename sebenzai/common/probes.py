"""Probes for load balancers and orchestrators, open to anyone and never rate-limited:
``/healthz`` says the process answers (it touches nothing else, so a slow database does not get a
healthy web node restarted), ``/readyz`` that the services a request needs answer too: the
database, Redis (the cache and the broker, where configured) and the file store. A service that
is not configured (the embedded default: SQLite, tasks in-process, a per-process cache) counts as
ready. The answer names each check, never a host, address or message that could leak set-up."""

from __future__ import annotations

import os

from django.core.files.storage import FileSystemStorage, default_storage
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import services_health, timed_check

READY = ("ok", "unused")


def storage_check() -> None:
    """The file store is there and, for the local disk, writable: uploads and exports go to it."""
    if isinstance(default_storage, FileSystemStorage):
        root = default_storage.location
        os.makedirs(root, exist_ok=True)  # as the first upload would; fails where it could not
        if not os.access(root, os.W_OK | os.X_OK):
            raise PermissionError("MEDIA_ROOT is not writable")
        return
    default_storage.exists(".readyz")  # any other store: one round trip to it


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = services_health()
    checks.pop("checked_at")
    checks["storage"] = timed_check(storage_check)
    ready = all(check["status"] in READY for check in checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: check["status"] for name, check in checks.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)
