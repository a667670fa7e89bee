"""Helpers of the object-store export tests: an export row to build, the images copied from the
bucket to the local disk (the same project on both stores), a store that is down for a while."""

from __future__ import annotations

import hashlib
from pathlib import Path

from annotations.models import Project
from exports.models import Export
from exports.options import export_options_build
from exports.services import export_request
from tests.processes import Bucket

LOCAL_DISK = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def export_new(project: Project, fmt: str = "coco") -> Export:
    """A pending export (its job is not sent: the test calls export_build itself)."""
    options = export_options_build(kind=project.kind, fmt=fmt, split=None, min_confidence=None)
    export, _ = export_request(
        project=project,
        user=project.owner,
        options=options,
        url_for=lambda pk: f"http://testserver/api/v1/exports/{pk}/download/",
    )
    return export


def object_bytes(bucket: Bucket, key: str) -> bytes:
    return bucket.client.get_object(Bucket=bucket.name, Key=key)["Body"].read()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def images_to_local_disk(bucket: Bucket, settings) -> None:
    """Copy every image object to MEDIA_ROOT, then make the local disk the default storage
    (``settings``: pytest-django's, whose change resets ``default_storage``)."""
    for key in bucket.keys():  # noqa: SIM118 - a listing, not a dict
        if key.startswith("images/"):
            path = Path(settings.MEDIA_ROOT) / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(object_bytes(bucket, key))
    settings.STORAGES = {**settings.STORAGES, "default": LOCAL_DISK}


def image_replace(bucket: Bucket, key: str, data: bytes) -> None:
    bucket.client.put_object(Bucket=bucket.name, Key=key, Body=data)
