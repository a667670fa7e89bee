from rest_framework import serializers

from sebenzai.common.serializers import StrictSerializer

from .models import Export, ExportState, ProjectWebhook, WebhookDelivery


class ExportRequestSerializer(StrictSerializer):
    # Checked against the project's kind by export_options_build, for one set of error codes
    # shared with the command.
    format = serializers.CharField(max_length=20)
    split = serializers.ListField(child=serializers.FloatField(), max_length=10, required=False)
    min_confidence = serializers.FloatField(required=False, allow_null=True)
    group_by = serializers.CharField(max_length=20, required=False)


class ExportSerializer(serializers.ModelSerializer):
    project = serializers.UUIDField(source="project_id", read_only=True)
    error = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id",
            "project",
            "version",
            "format",
            "state",
            "options",
            "counts",
            "size",
            "sha256",
            "manifest_sha256",
            "identical_to",
            "diff",
            "health",
            "error",
            "download_url",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_error(self, export: Export) -> dict | None:
        if not export.error_code:
            return None
        return {"code": export.error_code, "message": export.error_message}

    def get_download_url(self, export: Export) -> str | None:
        return export.download_url if export.state == ExportState.READY else None


class WebhookRequestSerializer(StrictSerializer):
    url = serializers.CharField(max_length=2000, trim_whitespace=False)
    rotate_secret = serializers.BooleanField(required=False, default=False)


class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProjectWebhook
        fields = ["url", "created_at", "updated_at"]


class WebhookWithSecretSerializer(serializers.ModelSerializer):
    """Only the owner's own PUT sees the secret; GET never shows it."""

    class Meta:
        model = ProjectWebhook
        fields = ["url", "secret", "created_at", "updated_at"]


class DeliverySerializer(serializers.ModelSerializer):
    export = serializers.UUIDField(source="export_id", read_only=True)
    version = serializers.IntegerField(source="export.version", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "export",
            "version",
            "state",
            "attempts",
            "last_status",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
