"""An export on the object store (S3 through django-storages, sebenzai/object_store_settings.py):
keys, the zip's multipart upload, and ranged reads of a stored zip.

boto3's client (the storage's own, so the same endpoint, credentials, timeouts and S3_PREFIX)
rather than ``default_storage.open``: django-storages' S3File reads a whole object into a spooled
file before returning its first byte and gives no way to abort an upload, while an export wants
a zip written part by part with a clean abort, and a few ranged reads of a zip's tail (the diff).

A multipart upload is published atomically: nothing exists under its key until
CompleteMultipartUpload succeeds, and a re-run of the same export writes the same bytes to the same
key. So the zip is written straight under its final key; a download never sees part of it.
"""

from __future__ import annotations

import hashlib
import io
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from storages.utils import clean_name  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

MIN_PART = 5 << 20  # S3's smallest part (all but the last)
DEFAULT_PART = 8 << 20  # 10,000 parts (S3's most) of 8 MiB: zips up to 78 GiB
READ_BLOCK = 1 << 20  # a ranged GET reads at least this much (zipfile reads in small pieces)


def store_key(name: str) -> str:
    """The bucket key of a storage name (S3_PREFIX in front), as django-storages makes it."""
    key: str = default_storage._normalize_name(clean_name(name))  # type: ignore[attr-defined]
    return key


def store_client() -> Any:
    """boto3's S3 client of the default storage; unlike its resources, safe across threads."""
    return default_storage.connection.meta.client  # type: ignore[attr-defined]


def store_bucket() -> str:
    bucket: str = default_storage.bucket_name  # type: ignore[attr-defined]
    return bucket


def part_size() -> int:
    """AWS_S3_FILE_BUFFER_SIZE, as django-storages' own writes use it; at least S3's minimum."""
    return max(MIN_PART, int(getattr(settings, "AWS_S3_FILE_BUFFER_SIZE", DEFAULT_PART)))


class ZipUpload:
    """A write-only stream into one object by multipart upload. A part is sent, on a thread, as
    soon as it fills while the next fills, so memory holds two parts whatever the zip's size. It
    hashes what it is given (the zip's sha256 without reading it back). ``complete`` publishes
    the object; ``close`` without it aborts the upload, so no part is left to be billed."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.size = 0
        self._client, self._bucket, self._key = store_client(), store_bucket(), store_key(name)
        self._part = part_size()
        self._hash = hashlib.sha256()
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._sending: Future[None] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-upload")
        started = self._client.create_multipart_upload(
            Bucket=self._bucket, Key=self._key, ContentType="application/zip"
        )
        self._upload_id: str | None = started["UploadId"]

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self.size += len(data)
        self._buffer += data
        while len(self._buffer) >= self._part:
            self._send_head()
        return len(data)

    def tell(self) -> int:
        return self.size

    def seekable(self) -> bool:
        return False  # the ZipWriter then writes each header once, sizes known (archive.py)

    def flush(self) -> None:
        pass

    def _send_head(self) -> None:
        with memoryview(self._buffer) as view:
            part = view[: self._part].tobytes()  # one copy: the part on its way
        del self._buffer[: self._part]
        self._send(part)

    def _send(self, data: bytes) -> None:
        self._wait()  # at most one part on its way
        number = len(self._parts) + 1
        self._parts.append({"PartNumber": number})
        self._sending = self._pool.submit(self._put, number, data)

    def _put(self, number: int, data: bytes) -> None:  # on the thread
        answer = self._client.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
            PartNumber=number, Body=data,
        )  # fmt: skip
        self._parts[number - 1]["ETag"] = answer["ETag"]

    def _wait(self) -> None:
        if self._sending is not None:
            sending, self._sending = self._sending, None
            sending.result()  # re-raises the part's error (a store that went down)

    def complete(self) -> None:
        """Send what is left and publish the object under its key."""
        while len(self._buffer) > self._part:
            self._send_head()
        if self._buffer or not self._parts:  # the last part may be short (or the only, empty)
            self._send(bytes(self._buffer))
            self._buffer.clear()
        self._wait()
        self._client.complete_multipart_upload(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )  # fmt: skip
        self._upload_id = None
        self._pool.shutdown()

    def close(self) -> None:
        """Abort the upload unless it was completed; a store that is down keeps its parts
        until the sweeper (``uploads_abandoned_abort``) or a lifecycle rule drops them."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._buffer.clear()
        if self._upload_id is None:
            return
        upload_id, self._upload_id = self._upload_id, None
        try:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=upload_id
            )
        except (BotoCoreError, ClientError):
            logger.warning("export upload %s could not be aborted", self._key, exc_info=True)


def uploads_abandoned_abort(*, prefix: str, older_than_seconds: int) -> int:
    """Abort the multipart uploads under ``prefix`` started longer ago than that: those of
    builds killed before they could abort their own."""
    client, bucket = store_client(), store_bucket()
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    listed = client.list_multipart_uploads(Bucket=bucket, Prefix=store_key(prefix))
    old = [u for u in listed.get("Uploads", []) if u["Initiated"] < cutoff]
    for upload in old:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    return len(old)


class StoredObject(io.RawIOBase):
    """A stored object read by ranged GETs, seekable: ``zipfile`` reads a zip's central
    directory and one member without the rest being fetched. Raises botocore's errors."""

    def __init__(self, name: str) -> None:
        self._client, self._bucket, self._key = store_client(), store_bucket(), store_key(name)
        self.size = int(
            self._client.head_object(Bucket=self._bucket, Key=self._key)["ContentLength"]
        )
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self.size - self._pos)
        if want <= 0:
            return 0
        span = f"bytes={self._pos}-{self._pos + want - 1}"
        got = self._client.get_object(Bucket=self._bucket, Key=self._key, Range=span)
        data = got["Body"].read()
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def stored_open(name: str) -> io.BufferedReader:
    """A stored object opened for ``zipfile`` (seek and read, a GET per READ_BLOCK)."""
    return io.BufferedReader(StoredObject(name), buffer_size=READ_BLOCK)
