import uuid

from django.db import models


class TimeStampedModel(models.Model):
    """Public ids are UUIDs so that counts and neighbours cannot be guessed from them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        abstract = True
