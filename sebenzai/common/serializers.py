from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so ``{"is_gold": true}`` is an error rather than
    silently ignored; read-only fields count as unknown on input."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {unknown[0]: [serializers.ErrorDetail("Unknown field.", code="unknown_field")]}
                )
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    pass
