"""The file store's configuration: the local disk by default, an S3-compatible store (a real
server process on loopback) when S3_BUCKET is set; and a store that is down told apart from a
missing object."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from storages.backends.s3 import S3Storage

from sebenzai.common.object_store import object_missing, store_down
from sebenzai.object_store_settings import object_store_settings


def test_without_a_bucket_files_live_on_the_local_disk(monkeypatch):
    monkeypatch.delenv("S3_BUCKET", raising=False)
    assert object_store_settings()["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert isinstance(default_storage, FileSystemStorage)


def test_a_bucket_puts_files_in_the_store_private_and_signed(object_store):
    # given the store configured by S3_BUCKET and its variables
    assert isinstance(default_storage, S3Storage)
    # when a file is saved, then it is an object of the bucket, read back byte for byte
    name = default_storage.save("images/ab/abc.png", ContentFile(b"\x89PNG bytes"))
    assert object_store.keys() == ["images/ab/abc.png"]
    with default_storage.open(name, "rb") as handle:
        assert handle.read() == b"\x89PNG bytes"
    # and its URL is presigned and short-lived, never a public one
    url = default_storage.url(name)
    assert url.startswith(object_store.server.endpoint)
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=300" in url
    acl = object_store.client.get_object_acl(Bucket=object_store.name, Key=name)
    assert all("AllUsers" not in str(grant["Grantee"]) for grant in acl["Grants"])


def _client_error(code: str, status: int) -> ClientError:
    body = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(body, "GetObject")


@pytest.mark.parametrize(
    ("error", "down", "missing"),
    [
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), True, False),
        (_client_error("InternalError", 500), True, False),
        (_client_error("SlowDown", 503), True, False),
        (_client_error("NoSuchKey", 404), False, True),
        (_client_error("AccessDenied", 403), False, False),
        (OSError("disk"), False, False),
        (NoCredentialsError(), False, False),  # our configuration: a 500 to fix, not a retry
    ],
)
def test_a_store_that_is_down_is_told_from_a_missing_object(error, down, missing):
    assert store_down(error) is down
    assert object_missing(error) is missing
