"""Probes for load balancers and orchestrators, open to anyone and never rate-limited:
``/healthz`` says the process answers (it touches nothing else, so a slow database does not get a
healthy web node restarted), ``/readyz`` that the services a request needs answer too: the
database, Redis (the cache and the broker, where configured) and the file store. A service that
is not configured (the embedded default: SQLite, tasks in-process, a per-process cache) counts as
ready. The answer names each check, never a host, address or message that could leak set-up."""

from __future__ import annotations

import os
from typing import Any

from botocore.config import Config
from django.core.files.storage import default_storage
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import services_health, timed_check
from .object_store import on_object_store

READY = ("ok", "unused")


def storage_check() -> None:
    """The file store is there and, for the local disk, writable: uploads and exports go to it."""
    if not on_object_store():
        root = default_storage.location
        os.makedirs(root, exist_ok=True)  # as the first upload would; fails where it could not
        if not os.access(root, os.W_OK | os.X_OK):
            raise PermissionError("MEDIA_ROOT is not writable")
        return
    _object_store_ping()


def _object_store_ping() -> None:
    """HEAD of the bucket (a deleted bucket or refused credentials fail it too) on a client of
    its own that gives up within about STORE_PING_SECONDS: the storage's client waits 3 s to
    connect and tries twice, which is right for an upload and too slow for a probe."""
    _ping_client().head_bucket(Bucket=default_storage.bucket_name)


STORE_PING_SECONDS = 1.5


def _ping_client() -> Any:
    storage = default_storage
    key = (storage.endpoint_url, storage.region_name, storage.access_key, storage.bucket_name)
    if key not in _ping_clients:
        config = Config(
            connect_timeout=STORE_PING_SECONDS,
            read_timeout=STORE_PING_SECONDS,
            retries={"total_max_attempts": 1, "mode": "standard"},  # no retry
            signature_version="s3v4",
            s3={"addressing_style": storage.addressing_style or "auto"},
        )
        session = storage._create_session()  # the storage's own credentials (keys or a role)
        _ping_clients[key] = session.client(
            "s3", endpoint_url=storage.endpoint_url, region_name=storage.region_name, config=config
        )
    return _ping_clients[key]


_ping_clients: dict[tuple, Any] = {}


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
