"""Exports, the webhook a project announces them to, and the log of those announcements.

The tables were made when these models lived in the annotations app and keep their names
(``db_table``); exports/migrations/0001 only takes them over in Django's state."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.models import Project
from sebenzai.common.models import TimeStampedModel


class ExportFormat(models.TextChoices):
    COCO = "coco"
    YOLO = "yolo"
    VOC = "voc"
    CSV = "csv"
    JSONL = "jsonl"
    IMAGEFOLDER = "imagefolder"


class ExportState(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


UNFINISHED = (ExportState.PENDING, ExportState.RUNNING)  # queued or being built


class Export(TimeStampedModel):
    """A numbered snapshot of a project's accepted labels, built by a Celery job into one zip.

    ``options`` holds what defines the snapshot (split ratios, minimum confidence, task states);
    the zip itself carries no version, id or time, so the same inputs give the same bytes.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    version = models.PositiveIntegerField()
    format = models.CharField(max_length=12, choices=ExportFormat.choices)
    options = models.JSONField()
    state = models.CharField(
        max_length=10, choices=ExportState.choices, default=ExportState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    manifest_sha256 = models.CharField(max_length=64, blank=True, default="")
    error_code = models.CharField(max_length=50, blank=True, default="")
    error_message = models.CharField(max_length=300, blank=True, default="")
    download_url = models.CharField(max_length=500, blank=True, default="")
    # What the manifest's health says (read by the staff dashboard), the difference from the
    # previous version of this format, and the version whose zip this one repeats byte for
    # byte (no webhook is sent for it).
    health = models.JSONField(default=dict, blank=True)
    diff = models.JSONField(null=True, blank=True)
    identical_to = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        db_table = "annotations_export"
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="one_export_per_version"),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(state__in=["pending", "running"]),
                name="export_unfinished_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.version} {self.format}"


class ProjectWebhook(TimeStampedModel):
    """Where a project's "export ready" events go. The URL was checked when it was set and is
    checked again before every delivery; ``secret`` signs each delivery (HMAC-SHA256)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="webhook")
    url = models.CharField(max_length=2000)
    secret = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "annotations_projectwebhook"

    def __str__(self) -> str:
        return f"{self.project_id} → {self.url[:60]}"


class DeliveryState(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(TimeStampedModel):
    """One event for one webhook, tried until a 2xx or the attempt budget is spent.

    ``last_error`` is always our own wording: a remote body is never stored or shown.
    """

    webhook = models.ForeignKey(ProjectWebhook, on_delete=models.CASCADE, related_name="deliveries")
    export = models.ForeignKey(Export, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=30, default="export.ready")
    payload = models.JSONField()
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "annotations_webhookdelivery"
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "export", "event"], name="one_delivery_per_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="delivery_pending_idx",
            ),
        ]
