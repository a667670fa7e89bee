"""Serializer pieces that refuse rather than guess: unknown fields, and values of the wrong JSON
type, are errors. DRF on its own turns ``42`` into ``"42"``, ``true`` into ``1.0``, the string
``"NaN"`` into a float NaN and an integer into a UUID."""

import math
import uuid

from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so ``{"is_gold": true}`` is an error rather than
    silently ignored; read-only fields count as unknown on input."""

    def run_validation(self, data=serializers.empty):
        if data is None and self.parent is None:  # a JSON ``null`` body
            error = serializers.ErrorDetail(
                "Expected a JSON object, got null.", code="invalid_type"
            )
            raise serializers.ValidationError({"body": [error]})
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            message = f"Expected a JSON object, got {_json_type(data)}."
            error = serializers.ErrorDetail(message, code="invalid_type")
            # At the top the whole body is wrong; nested, the item is (``gold[0]``).
            raise serializers.ValidationError({"body": [error]} if self.parent is None else [error])
        writable = {name for name, f in self.fields.items() if not f.read_only}
        unknown = sorted(set(data) - writable)
        if unknown:
            raise serializers.ValidationError(
                {unknown[0]: [serializers.ErrorDetail("Unknown field.", code="unknown_field")]}
            )
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    pass


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else type(value).__name__


class StrictCharField(serializers.CharField):
    """A JSON string, nothing else."""

    default_error_messages = {"invalid": "Expected a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not a string, a boolean or a fraction."""

    default_error_messages = {"invalid": "Expected a whole number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A finite JSON number: not a string, a boolean, NaN or infinity."""

    default_error_messages = {"invalid": "Expected a finite number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false: not "yes", 1 or "on"."""

    default_error_messages = {"invalid": "Expected true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictUUIDField(serializers.UUIDField):
    """A UUID written as a string (DRF also takes an integer and makes a UUID of it)."""

    def to_internal_value(self, data):
        if not isinstance(data, str | uuid.UUID):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class PayloadField(serializers.JSONField):
    """Any parsed JSON, left for the payload validator to judge piece by piece, so an error
    names the coordinate (``payload.boxes[0].bbox[0]``) rather than the whole payload."""

    def to_internal_value(self, data):
        return data
