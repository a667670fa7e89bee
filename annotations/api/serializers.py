import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sebenzai.common.serializers import (
    PayloadField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictModelSerializer,
    StrictSerializer,
    StrictUUIDField,
)

from ..models import Project, Task

LABEL_NAME = StrictCharField(max_length=64, trim_whitespace=True)
COLOR = re.compile(r"#[0-9a-fA-F]{6}")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": 64},
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 64},
                    "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
                },
                "required": ["name"],
                "additionalProperties": False,
            },
        ]
    }
)
class LabelField(serializers.Field):
    """A label is a name, or ``{"name": ..., "color": "#rrggbb"}``."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = {"name": data}
        if not isinstance(data, dict) or set(data) - {"name", "color"} or "name" not in data:
            raise serializers.ValidationError(
                'Expected a name or {"name", "color"}.', code="invalid_label"
            )
        label = {"name": LABEL_NAME.run_validation(data["name"])}
        if "color" in data:
            if not isinstance(data["color"], str) or not COLOR.fullmatch(data["color"]):
                raise serializers.ValidationError(
                    'Expected a colour written "#rrggbb".', code="invalid_color"
                )
            label["color"] = data["color"]
        return label

    def to_representation(self, value):
        return value


class ProjectSerializer(StrictModelSerializer):
    labels = serializers.ListField(child=LabelField(), max_length=100, required=False)
    name = StrictCharField(max_length=200)
    instructions = StrictCharField(max_length=20_000, allow_blank=True, required=False)
    redundancy_min = StrictIntegerField(min_value=1, max_value=50, required=False)
    redundancy_max = StrictIntegerField(min_value=1, max_value=50, required=False)
    acceptance_threshold = StrictFloatField(min_value=0.5, max_value=1.0, required=False)
    iou_threshold = StrictFloatField(min_value=0.1, max_value=0.95, required=False)
    gold_ratio = StrictFloatField(min_value=0.0, max_value=0.5, required=False)
    points_per_task = StrictIntegerField(min_value=0, max_value=10_000, required=False)
    moderation_daily_cap = StrictIntegerField(
        min_value=1, max_value=10_000, required=False, allow_null=True
    )
    model_audit_share = StrictFloatField(min_value=0.0, max_value=1.0, required=False)

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "kind",
            "labels",
            "instructions",
            "redundancy_min",
            "redundancy_max",
            "acceptance_threshold",
            "iou_threshold",
            "gold_ratio",
            "points_per_task",
            "moderation_daily_cap",
            "task_order",
            "model_auto_accept",
            "model_audit_share",
            "prelabel",
            "status",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class UploadSerializer(StrictSerializer):
    images = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), required=False, max_length=50
    )
    archive = serializers.FileField(required=False, allow_empty_file=True)

    def validate(self, attrs):
        if bool(attrs.get("images")) == bool(attrs.get("archive")):
            raise serializers.ValidationError(
                {"images": "Send image files in 'images' or one zip in 'archive'."}
            )
        return attrs


class GoldItemSerializer(StrictSerializer):
    task = StrictUUIDField()
    answer = PayloadField()


class GoldSerializer(StrictSerializer):
    gold = serializers.ListField(child=GoldItemSerializer(), min_length=1, max_length=1000)


class ResultSerializer(serializers.ModelSerializer):
    answers = serializers.IntegerField(source="answers_count")
    label = serializers.JSONField(source="accepted_label")
    image_url = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "original_name",
            "width",
            "height",
            "state",
            "label",
            "confidence",
            "answers",
            "image_url",
            "decided_at",
            "created_at",
        ]

    def get_image_url(self, task: Task) -> str:
        return f"/api/v1/tasks/{task.pk}/image/"


class NextTaskRequestSerializer(StrictSerializer):
    project = StrictUUIDField(required=False)


class SubmitSerializer(StrictSerializer):
    payload = PayloadField()
    duration_ms = StrictIntegerField(
        min_value=0, max_value=24 * 3600 * 1000, required=False, allow_null=True
    )


class SkipSerializer(StrictSerializer):
    """Skipping takes no fields; anything sent is refused rather than ignored."""
