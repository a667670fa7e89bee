"""Handing a ready export's zip to its owner (the caller checked ownership): a file of the local
disk to stream, or on the object store a short-lived presigned URL (MEDIA_DELIVERY=redirect) or
the object's body to stream through this process (MEDIA_DELIVERY=stream).

A zip that is gone (deleted from the disk or the bucket) is a 410 ``export_missing``: the export
row exists and its detail says ready, so a 404 would contradict it (and read as "no such export,
or not yours"), while 410 says it was there and will not come back — request a new export. A
store that does not answer goes up as botocore's error: the API's handler makes it a 503.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

from django.utils.http import content_disposition_header
from django.utils.text import slugify
from rest_framework import status  # type: ignore[import-untyped]

from sebenzai.common.errors import Conflict, DomainError
from sebenzai.common.object_store import object_missing, on_object_store
from sebenzai.common.store_urls import signed_url, store_signs_urls

from .models import Export, ExportState
from .services import export_file, export_name
from .store import store_bucket, store_client, store_key

CONTENT_TYPE = "application/zip"


class ExportGone(DomainError):
    status_code = status.HTTP_410_GONE

    def __init__(self) -> None:
        message = "The export's file is gone; request a new export."
        super().__init__(code="export_missing", field="export", message=message)


@dataclass(frozen=True)
class ExportDownload:
    filename: str  # what the browser saves it as
    file: IO[bytes] | None = None  # to stream (the caller closes it)
    size: int | None = None
    url: str | None = None  # or where to send the client


def export_filename(*, export: Export) -> str:
    name = slugify(export.project.name)[:60] or "project"
    return f"{name}-v{export.version}-{export.format}.zip"


def export_download(*, export: Export) -> ExportDownload:
    """How to hand over the ready export's zip. Raises Conflict (409 ``export_not_ready``) when
    it is not ready, ExportGone (410) when its file or object is gone, and botocore's errors
    when the store does not answer."""
    if export.state != ExportState.READY:
        message = f"The export is {export.state}; download it once it is ready."
        raise Conflict(code="export_not_ready", field="export", message=message)
    filename = export_filename(export=export)
    if not on_object_store():  # the local disk: nothing to presign, streamed as always
        try:
            file = open(export_file(export=export), "rb")  # noqa: SIM115 - the response closes it
        except FileNotFoundError as exc:
            raise ExportGone from exc
        return ExportDownload(filename, file=file)
    name = export_name(export=export)
    if not store_signs_urls():  # MEDIA_DELIVERY=stream
        got = _stored(store_client().get_object, name)
        return ExportDownload(filename, file=got["Body"], size=int(got["ContentLength"]))
    disposition = content_disposition_header(True, filename)
    try:
        url = signed_url(name, content_type=CONTENT_TYPE, disposition=disposition)
    except FileNotFoundError as exc:
        raise ExportGone from exc
    return ExportDownload(filename, url=url)


def _stored(call: Any, name: str) -> dict[str, Any]:
    try:
        answer: dict[str, Any] = call(Bucket=store_bucket(), Key=store_key(name))
        return answer
    except Exception as exc:
        if object_missing(exc):
            raise ExportGone from exc
        raise
