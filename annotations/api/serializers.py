import math
import re
import unicodedata
from datetime import UTC
from typing import NoReturn

from django.conf import settings
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sebenzai.common.serializers import (
    PayloadField,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictModelSerializer,
    StrictSerializer,
    StrictUUIDField,
)

from ..models import Project, Task
from ..video import Sampling

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


TRANSLATION_PARTS = {"instructions", "labels"}


@extend_schema_field(
    {
        "type": "object",
        "description": (
            "Per worker language (a code of settings.LANGUAGES: en, fr, pt, sw, zu, ha), the "
            "instructions and label titles workers see in that language; anything left out "
            "falls back to the original. Label keys are names of the project's labels."
        ),
        "additionalProperties": {
            "type": "object",
            "properties": {
                "instructions": {"type": "string", "maxLength": 20_000},
                "labels": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "maxLength": 64},
                },
            },
            "additionalProperties": False,
        },
        "example": {
            "fr": {"instructions": "Encadrez chaque voiture.", "labels": {"car": "voiture"}}
        },
    }
)
class TranslationsField(serializers.Field):
    """``{"fr": {"instructions": "...", "labels": {"car": "voiture"}}}``. Each error names its
    place (``translations.fr.labels.truck``); label names are checked by the serializer, which
    knows the project's labels."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("Expected a JSON object.", code="invalid_type")
        languages = {code for code, _ in settings.LANGUAGES}
        for code, entry in data.items():
            if code not in languages:
                message = f"Unknown language; use one of {', '.join(sorted(languages))}."
                raise serializers.ValidationError({code: [message]}, code="unknown_language")
            _check_translation(code, entry)
        return data

    def to_representation(self, value):
        return value


def _fail(path: str, message: str, code: str) -> NoReturn:
    """Raises the error nested along ``path`` ("fr.labels.truck"), so the handler names it."""
    detail: dict = {}
    node = detail
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = [serializers.ErrorDetail(message, code=code)]
    raise serializers.ValidationError(detail)


def _check_translation(code: str, entry: object) -> None:
    if not isinstance(entry, dict):
        _fail(code, "Expected a JSON object.", "invalid_type")
    for part in sorted(set(entry) - TRANSLATION_PARTS):
        _fail(f"{code}.{part}", "Unknown field.", "unknown_field")
    if "instructions" in entry:
        _check_text(f"{code}.instructions", entry["instructions"], 20_000)
    titles = entry.get("labels", {})
    if not isinstance(titles, dict):
        _fail(f"{code}.labels", "Expected a JSON object of label name to title.", "invalid_type")
    for name, title in titles.items():
        _check_text(f"{code}.labels.{name}", title, 64)


def _check_text(path: str, value: object, max_length: int) -> None:
    if not isinstance(value, str):
        _fail(path, "Expected a string.", "invalid")
    elif not value.strip():
        _fail(path, "May not be blank.", "blank")
    elif len(value) > max_length:
        _fail(path, f"At most {max_length} characters.", "max_length")
    elif any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        _fail(path, "Control characters are not allowed.", "invalid")


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
    model_auto_accept = StrictBooleanField(required=False)
    prelabel = StrictBooleanField(required=False)
    translations = TranslationsField(required=False)

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
            "translations",
            "status",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def validate(self, attrs):
        """Translated label titles must name the project's labels (as sent now, or as kept)."""
        attrs = super().validate(attrs)
        if "translations" not in attrs:
            return attrs
        labels = attrs.get("labels", self.instance.labels if self.instance else [])
        names = {label["name"] for label in labels}
        for code, entry in attrs["translations"].items():
            for name in entry.get("labels", {}):
                if name not in names:
                    message = "Not a label of this project."
                    _fail(f"translations.{code}.labels.{name}", message, "unknown_label")
        return attrs


class FormFloatField(serializers.FloatField):
    """A number sent as form text: finite only (DRF's own takes "nan", which passes any range)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class GroupTextField(StrictCharField):
    """A short name (camera, site, sequence): trimmed, no control or format characters."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if any(unicodedata.category(ch)[0] == "C" for ch in value):
            raise serializers.ValidationError("Control characters are not allowed.", code="invalid")
        return value


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with a UTC offset ("2025-03-01T06:30:00+02:00" or "…Z"); a time without one is
    refused rather than guessed to be UTC. Kept as UTC."""

    def to_internal_value(self, data):
        try:
            parsed = parse_datetime(data) if isinstance(data, str) else None
        except ValueError:  # well formed, but no such day or hour
            parsed = None
        if parsed is None:
            raise serializers.ValidationError(
                "Expected an ISO 8601 date and time, e.g. 2025-03-01T06:30:00Z.", code="invalid"
            )
        if parsed.tzinfo is None:
            raise serializers.ValidationError(
                "Add a UTC offset (Z or e.g. +02:00).", code="naive_datetime"
            )
        return parsed.astimezone(UTC)


GROUP_FIELDS = ("camera", "site", "sequence", "captured_at")


class UploadSerializer(StrictSerializer):
    """Images, videos (in ``images`` or in the zip) and optional fields: how to sample video
    frames, and group metadata stored on every task the upload makes."""

    images = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), required=False, max_length=50
    )
    archive = serializers.FileField(required=False, allow_empty_file=True)
    sample = serializers.ChoiceField(choices=["rate", "scene"], required=False)
    fps = FormFloatField(min_value=0.01, max_value=30, required=False)
    dedupe_distance = serializers.IntegerField(min_value=0, max_value=32, required=False)
    camera = GroupTextField(max_length=100, required=False)
    site = GroupTextField(max_length=100, required=False)
    sequence = GroupTextField(max_length=100, required=False)
    captured_at = AwareDateTimeField(required=False)

    def validate(self, attrs):
        if bool(attrs.get("images")) == bool(attrs.get("archive")):
            raise serializers.ValidationError(
                {"images": "Send image files in 'images' or one zip in 'archive'."}
            )
        return attrs


def upload_sampling(data: dict) -> Sampling:
    """The video sampling an upload asked for; defaults for what it left out."""
    default = Sampling()
    return Sampling(
        mode=data.get("sample", default.mode),
        fps=data.get("fps", default.fps),
        dedupe_distance=data.get("dedupe_distance", default.dedupe_distance),
    )


def upload_group(data: dict) -> dict:
    """The group metadata an upload carries, as JSON: only the fields it sent."""
    group = {name: data[name] for name in GROUP_FIELDS if name in data}
    if "captured_at" in group:
        group["captured_at"] = group["captured_at"].isoformat().replace("+00:00", "Z")
    return group


class GoldItemSerializer(StrictSerializer):
    task = StrictUUIDField()
    answer = PayloadField()


class GoldSerializer(StrictSerializer):
    gold = serializers.ListField(child=GoldItemSerializer(), min_length=1, max_length=1000)


class ResultSerializer(serializers.ModelSerializer):
    answers = serializers.IntegerField(source="answers_count")
    label = serializers.JSONField(source="accepted_label")
    image_url = serializers.SerializerMethodField()
    metadata = serializers.JSONField(
        read_only=True,
        help_text='Where the image came from: {"video": {name, sha256, time_s, frame}} for a '
        'video frame, {"group": {camera, site, sequence, captured_at}} when the upload sent them.',
    )

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
            "metadata",
            "decided_at",
            "created_at",
        ]

    def get_image_url(self, task: Task) -> str:
        return f"/api/v1/tasks/{task.pk}/image/"


class NextTaskRequestSerializer(StrictSerializer):
    project = StrictUUIDField(required=False)
    holding = serializers.ListField(
        child=StrictUUIDField(),
        max_length=20,
        required=False,
        help_text=(
            "The assignments the page holds (shown, prefetched, answered but not sent): answer "
            "with a task to prefetch beyond them."
        ),
    )


class SubmitSerializer(StrictSerializer):
    payload = PayloadField()
    duration_ms = StrictIntegerField(
        min_value=0, max_value=24 * 3600 * 1000, required=False, allow_null=True
    )
    next = NextTaskRequestSerializer(
        required=False,
        help_text=(
            "Lease the next task in the same request, as POST work/next/ would with this body "
            "(project: by default the answered task's): the answer carries it back as `next`."
        ),
    )


class SkipSerializer(StrictSerializer):
    """Skipping takes no fields; anything sent is refused rather than ignored."""
