"""POST an ONNX model to run on a project's tasks (multipart), GET the project's uploaded models.
Another requester's project is a 404, as one that does not exist; workers are refused (403).

The form: ``file`` (the .onnx), ``model`` ("name@version"), ``task`` ("classifier" |
"yolo_detect"), ``input_size`` ("640" for a square input, or "WIDTHxHEIGHT" such as "640x480"),
``class_labels`` (a JSON list: the project label for each of the model's output classes, in
order, or null to ignore one), and optionally ``score_threshold`` and ``iou_threshold`` (numbers
in [0, 1], for detectors) and ``mean`` and ``std`` (JSON lists of three numbers, per RGB channel
on pixels scaled to 0..1, for exports that leave normalisation out of the graph)."""

from __future__ import annotations

import json
import re
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from sebenzai.common.serializers import StrictCharField, StrictSerializer

from .api import ProjectUploadView
from .models import MAX_MODEL_NAME
from .onnx_models import onnx_model_upload, onnx_models_of, onnx_runtime_check

INPUT_SIZE = re.compile(r"(\d{1,5})(?:[x×](\d{1,5}))?", re.IGNORECASE)
OPTIONAL_SPEC = ("score_threshold", "iou_threshold", "mean", "std")


class JsonTextField(StrictCharField):
    """A form field holding JSON text; the parsed value is checked by the service."""

    def to_internal_value(self, data: Any) -> Any:
        text = super().to_internal_value(data)
        try:
            return json.loads(text)
        except ValueError as exc:
            raise serializers.ValidationError("Expected JSON text.", code="invalid_json") from exc


class ModelUploadSerializer(StrictSerializer):
    file = serializers.FileField(allow_empty_file=True, help_text="The .onnx file")
    model = StrictCharField(max_length=MAX_MODEL_NAME, help_text='"<name>@<version>"')
    task = StrictCharField(max_length=40, help_text='"classifier" or "yolo_detect"')
    input_size = StrictCharField(max_length=20, help_text='"640", or "WIDTHxHEIGHT"')
    class_labels = JsonTextField(help_text='e.g. ["car", "taxi", null]: one per model class')
    score_threshold = serializers.FloatField(required=False)
    iou_threshold = serializers.FloatField(required=False)
    mean = JsonTextField(required=False, help_text="e.g. [0.485, 0.456, 0.406]")
    std = JsonTextField(required=False, help_text="e.g. [0.229, 0.224, 0.225]")

    def validate_input_size(self, value: str) -> tuple[int, int]:
        match = INPUT_SIZE.fullmatch(value.strip())
        if match is None:
            message = 'Expected "640" for a square input, or "WIDTHxHEIGHT" such as "640x480".'
            raise serializers.ValidationError(message, code="invalid_size")
        width = int(match[1])
        return width, int(match[2] or width)


class ProjectModelsView(ProjectUploadView):
    parser_classes = [MultiPartParser]

    @extend_schema(responses={200: dict})
    def get(self, request, project_id):
        return Response({"models": onnx_models_of(project=self._project())})

    @extend_schema(request={"multipart/form-data": ModelUploadSerializer}, responses={201: dict})
    def post(self, request, project_id):
        project = self._project()
        onnx_runtime_check()  # before the form: no field can make up for a missing runtime
        serializer = ModelUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        spec_fields = {
            "task": data["task"],
            "input_size": data["input_size"],
            "class_labels": data["class_labels"],
            **{key: data[key] for key in OPTIONAL_SPEC if key in data},
        }
        row = onnx_model_upload(
            project=project, model=data["model"], file=data["file"], spec_fields=spec_fields
        )
        body = {"id": str(row.pk), "model": data["model"], "model_id": str(row.version_id)}
        return Response({**body, "state": row.state}, status=status.HTTP_201_CREATED)
