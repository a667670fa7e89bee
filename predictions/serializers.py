from rest_framework import serializers

from sebenzai.common.serializers import StrictCharField, StrictSerializer

from .models import MAX_MODEL_NAME

FILE_FORMATS = ["coco", "yolo"]


class PredictionsRequestSerializer(StrictSerializer):
    model = StrictCharField(max_length=MAX_MODEL_NAME, help_text='"<name>@<version>"')
    # Checked item by item by the service, which names the item at fault.
    predictions = serializers.JSONField(
        help_text='[{"task": "<task id>", "payload": <the answer with a "score" in [0, 1]>}]'
    )


class PredictionFileSerializer(StrictSerializer):
    """A file as models write it: a COCO results JSON, or Ultralytics YOLO .txt files (one per
    image, or a zip of them), matched to tasks by the uploaded file name or the sha256."""

    model = StrictCharField(max_length=MAX_MODEL_NAME)
    format = serializers.ChoiceField(choices=FILE_FORMATS)
    file = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), required=False, max_length=50
    )
    archive = serializers.FileField(required=False, allow_empty_file=True)

    def validate(self, attrs):
        if bool(attrs.get("file")) == bool(attrs.get("archive")):
            raise serializers.ValidationError(
                {"file": "Send the prediction files in 'file', or one zip of them in 'archive'."}
            )
        return attrs
