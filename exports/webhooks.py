"""A project's webhook: set it (the URL checked), and deliver "export ready" events to it —
signed, retried with backoff, and logged where only the project's owner can read it.

Delivery is at least once: a receiver can tell a repeat by the ``X-Sebenzai-Delivery`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from annotations.models import Project
from sebenzai import jobs
from sebenzai.common.broker import job_send_on_commit

from .egress import DeliveryError, UrlNotAllowed, http_post, url_target
from .manifest import platform_version
from .models import DeliveryState, Export, ProjectWebhook, WebhookDelivery

EVENT_EXPORT_READY = "export.ready"
MAX_ATTEMPTS = 8
BACKOFF_BASE, BACKOFF_MAX = 10.0, 600.0  # seconds; with jitter at most 720, under the broker's
# visibility timeout (docs/reliability.md P4)
CLAIM_SECONDS = 60  # longer than one attempt can take (egress.TOTAL_TIMEOUT)
CLOCK_SLACK = 2  # a retry message may arrive a moment before next_attempt_at


def secret_new() -> str:
    return secrets.token_urlsafe(32)


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + HMAC-SHA256 over ``"<timestamp>." + body``: the timestamp is signed too,
    so a receiver that refuses old timestamps also refuses replays."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_set(*, project: Project, url: str, rotate_secret: bool = False) -> ProjectWebhook:
    """Set or change the project's webhook URL. Raises UrlNotAllowed (400 ``url_not_allowed``)
    for a URL that is not http(s), carries credentials, or reaches a non-public address — unless
    the WEBHOOK_ALLOW_PRIVATE setting allows private ones. The secret is made once, and changed
    only when asked."""
    url_target(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
    webhook, created = ProjectWebhook.objects.get_or_create(
        project=project, defaults={"url": url, "secret": secret_new()}
    )
    if not created:
        webhook.url = url
        if rotate_secret:
            webhook.secret = secret_new()
        webhook.save(update_fields=["url", "secret", "updated_at"])
    return webhook


def webhook_delete(*, project: Project) -> None:
    """Remove the webhook; its delivery log goes with it."""
    ProjectWebhook.objects.filter(project=project).delete()


def export_event(*, export: Export) -> dict:
    """The small message a training job needs to fetch the export."""
    counts = export.counts
    return {
        "event": EVENT_EXPORT_READY,
        "project": str(export.project_id),
        "export": str(export.pk),
        "version": export.version,
        "format": export.format,
        "counts": {"images": counts.get("images", {}), "objects": counts.get("objects", {})},
        "download_url": export.download_url,
        "sha256": export.sha256,
        "size": export.size,
    }


def deliveries_create(*, export: Export) -> list[str]:
    """Record an "export ready" delivery for the project's webhook, once (a constraint makes a
    repeat harmless); return the ids to enqueue."""
    webhook = ProjectWebhook.objects.filter(project_id=export.project_id).first()
    if webhook is None:
        return []
    delivery, created = WebhookDelivery.objects.get_or_create(
        webhook=webhook,
        export=export,
        event=EVENT_EXPORT_READY,
        defaults={"payload": export_event(export=export), "next_attempt_at": timezone.now()},
    )
    return [str(delivery.pk)] if created else []


def deliveries_enqueue(ids: list[str]) -> None:
    """Send the deliveries to the broker once the current transaction commits; a broker that is
    down only delays them (the sweeper re-enqueues due deliveries)."""
    for delivery_id in ids:
        job_send_on_commit(jobs.WEBHOOK_DELIVER, delivery_id)


def _claim(delivery_id: str) -> WebhookDelivery | None:
    """Take the delivery for one attempt, if it is pending and due; a duplicate message finds it
    claimed and does nothing."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        state=DeliveryState.PENDING,
        next_attempt_at__lte=now + timedelta(seconds=CLOCK_SLACK),
        attempts__lt=MAX_ATTEMPTS,
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)


def _headers(delivery: WebhookDelivery, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "User-Agent": f"Sebenzai-Webhook/{platform_version()}",
        "X-Sebenzai-Event": delivery.event,
        "X-Sebenzai-Delivery": str(delivery.pk),
        "X-Sebenzai-Timestamp": timestamp,
        "X-Sebenzai-Signature": signature(
            secret=delivery.webhook.secret, timestamp=timestamp, body=body
        ),
    }


def delivery_attempt(*, delivery_id: str) -> float | None:
    """Make one attempt at a delivery if it is due. Returns the seconds to wait before the next
    attempt, or None when there is nothing more to do now (delivered, failed for good, not due,
    or being tried by another worker)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    try:
        # Checked again now: DNS may have changed since the URL was set (docs/reliability.md S3, S5).
        target = url_target(delivery.webhook.url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
    except UrlNotAllowed as exc:
        return _record(delivery, status=None, error=exc.message, final=True)
    try:
        status = http_post(target, body=body, headers=_headers(delivery, body))
    except DeliveryError as exc:
        return _record(delivery, status=None, error=exc.reason)
    if 200 <= status < 300:
        return _record(delivery, status=status, error="")
    error = "redirect not followed" if 300 <= status < 400 else f"HTTP {status}"
    return _record(delivery, status=status, error=error)


def _backoff(attempts: int) -> float:
    return min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (attempts - 1)) * random.uniform(1.0, 1.2)


def _record(
    delivery: WebhookDelivery, *, status: int | None, error: str, final: bool = False
) -> float | None:
    now = timezone.now()
    fields = {"last_status": status, "last_error": error[:200]}
    retry_in = None
    if not error:
        fields.update(state=DeliveryState.DELIVERED, delivered_at=now)
    elif final or delivery.attempts >= MAX_ATTEMPTS:
        fields.update(state=DeliveryState.FAILED)
    else:
        retry_in = _backoff(delivery.attempts)
        fields.update(next_attempt_at=now + timedelta(seconds=retry_in))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    return retry_in


def deliveries_lost(*, older_than_seconds: int) -> list[str]:
    """Pending deliveries well past their due time: their retry message was lost."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    rows = WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lt=cutoff)
    return [str(pk) for pk in rows.values_list("pk", flat=True)[:1000]]
