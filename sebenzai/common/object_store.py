"""Whether files live on the object store, and telling a store that is down (or refusing for its
own reasons) from a missing object, so the API answers 503 "try again" rather than a 500:
botocore's errors, seen only when the storage is S3 (sebenzai/object_store_settings.py)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from django.core.files.storage import FileSystemStorage, default_storage

MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


def on_object_store() -> bool:
    """The default storage is the object store (S3_BUCKET set), not the local disk: the one
    question every part that reads or serves files asks."""
    return not isinstance(default_storage, FileSystemStorage)


def store_down(error: BaseException) -> bool:
    """The store did not answer, or answered with a failure of its own (5xx, throttled). Not
    missing credentials: that is this platform's configuration, a 500 to fix, not to retry."""
    if isinstance(error, NoCredentialsError):
        return False
    if isinstance(error, BotoCoreError):  # no connection, a timeout, a broken response
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return status >= 500 or error.response.get("Error", {}).get("Code") == "SlowDown"
    return False


def object_missing(error: BaseException) -> bool:
    return isinstance(error, ClientError) and (
        str(error.response.get("Error", {}).get("Code")) in MISSING_CODES
    )
