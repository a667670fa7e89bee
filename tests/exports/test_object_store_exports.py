"""Exports on the object store (a real S3 server process on loopback): images read from the
bucket, the zip uploaded in parts under its final key, byte for byte the zip the local disk makes,
and a store that goes down during a build retried, never published half-written."""

from __future__ import annotations

import os
import random

import pytest

from exports import archive, image_files, services, store_images
from exports.models import ExportState
from exports.services import MAX_ATTEMPTS, export_build, export_name
from exports.store import ZipUpload, uploads_abandoned_abort
from tests.exports.helpers import tree_bytes
from tests.exports.stored import (
    export_new,
    image_replace,
    images_to_local_disk,
    object_bytes,
    sha256,
)

pytestmark = pytest.mark.django_db


def _uploads(bucket) -> list:
    return bucket.client.list_multipart_uploads(Bucket=bucket.name).get("Uploads", [])


def _export_keys(bucket) -> list[str]:
    return [key for key in bucket.keys() if key.startswith("exports/")]  # noqa: SIM118 - a listing, not a dict


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [("bbox", "coco"), ("bbox", "yolo"), ("polygon", "voc"), ("classification", "imagefolder")],
)
def test_an_export_on_the_object_store_is_byte_identical_to_one_on_the_local_disk(
    object_store, accepted_project, settings, kind, fmt
):
    # given a project whose images are objects of the bucket, one of them gone (a WebP for
    # VOC, which re-encodes it as JPEG)
    project = accepted_project(kind, images=7, formats=("WEBP",))
    gone = project.tasks.order_by("sha256").first()
    object_store.client.delete_object(Bucket=object_store.name, Key=gone.image)
    # when it is exported on the object store
    stored = export_build(export_id=str(export_new(project, fmt).pk))
    # then the zip is an object under its final key, its sha256 the one recorded
    assert stored.state == ExportState.READY, stored.error_message
    data = object_bytes(object_store, export_name(export=stored))
    assert sha256(data) == stored.sha256
    assert len(data) == stored.size
    assert stored.counts["skipped"] == {"missing_image": 1}  # as a missing file is
    assert _uploads(object_store) == []
    # and the same project exported on the local disk gives the same bytes
    images_to_local_disk(object_store, settings)
    local = export_build(export_id=str(export_new(project, fmt).pk))
    assert local.state == ExportState.READY, local.error_message
    assert (local.sha256, local.manifest_sha256) == (stored.sha256, stored.manifest_sha256)
    assert services.export_file(export=local).read_bytes() == data


def test_a_large_zip_goes_up_in_parts_with_large_images_packed_in_two_passes(
    object_store, accepted_project, monkeypatch, settings
):
    # given images of 3 MB (random bytes: an export copies bytes, it never decodes a PNG),
    # and "large" set to 1 MB so they take the streamed path on both stores
    monkeypatch.setattr(archive, "IN_MEMORY", 1 << 20)
    monkeypatch.setattr(image_files, "IN_MEMORY", 1 << 20)
    project = accepted_project("bbox", images=4)
    rng = random.Random(7)
    for task in project.tasks.all():
        image_replace(object_store, task.image, rng.randbytes(3 << 20))
    # when it is exported on the object store in parts of 5 MB: 12 MB, three parts
    settings.AWS_S3_FILE_BUFFER_SIZE = 5 << 20
    sent = []
    real_put = ZipUpload._put
    monkeypatch.setattr(
        ZipUpload, "_put", lambda self, n, d: sent.append(len(d)) or real_put(self, n, d)
    )
    stored = export_build(export_id=str(export_new(project).pk))
    # then the parts were sent as they filled, and the zip is the local disk's byte for byte
    assert stored.state == ExportState.READY, stored.error_message
    assert len(sent) == 3
    assert sent[0] == sent[1] == 5 << 20
    images_to_local_disk(object_store, settings)
    local = export_build(export_id=str(export_new(project).pk))
    assert local.sha256 == stored.sha256
    zipped = tree_bytes(services.export_file(export=local))
    assert sorted(len(v) for k, v in zipped.items() if k.startswith("images/")) == [3 << 20] * 4


def test_a_store_that_goes_down_during_a_build_leaves_it_pending_and_the_retry_publishes_it(
    object_store, accepted_project, monkeypatch
):
    # given a project on the store, and an export of it already published
    project = accepted_project("bbox", images=6)
    first = export_build(export_id=str(export_new(project).pk))
    kept = object_store.snapshot()
    # when the store stops in the middle of the next build (after its second image)
    monkeypatch.setattr(store_images, "WINDOW", 1)  # fetch one at a time, so it is mid-way
    real_zip = store_images.StoreImages.zip
    calls = []

    def zip_then_stop(self, out, rel, name):
        calls.append(name)
        if len(calls) == 2:
            object_store.server.stop()
        return real_zip(self, out, rel, name)

    monkeypatch.setattr(store_images.StoreImages, "zip", zip_then_stop)
    project.tasks.update(confidence=0.96)  # a change, so the new version is not identical
    second = export_new(project)
    try:
        attempt = export_build(export_id=str(second.pk))
        # then the attempt ends with the export pending for a retry, with a readable reason
        assert attempt.state == ExportState.PENDING
        assert (attempt.attempts, attempt.error_code) == (1, "store_unavailable")
    finally:
        object_store.restore(kept)
    # and once the store is back, the retry publishes the zip; the first is still there
    monkeypatch.setattr(store_images.StoreImages, "zip", real_zip)
    retried = export_build(export_id=str(second.pk))
    assert retried.state == ExportState.READY, retried.error_message
    assert (retried.attempts, retried.error_code) == (2, "")
    assert sha256(object_bytes(object_store, export_name(export=retried))) == retried.sha256
    assert sha256(object_bytes(object_store, export_name(export=first))) == first.sha256
    assert retried.diff["previous_version"] == first.version


def test_an_export_fails_with_a_readable_error_only_after_its_attempts(
    object_store, accepted_project
):
    project = accepted_project("bbox", images=3)
    export = export_new(project)
    with object_store.stopped():
        for _ in range(MAX_ATTEMPTS):
            built = export_build(export_id=str(export.pk))
    assert built.state == ExportState.FAILED
    assert built.error_code == "store_unavailable"
    assert "file store did not answer in 3 attempts" in built.error_message
    assert _export_keys(object_store) == []  # never ready without an object, none half-made


def test_a_build_that_fails_aborts_its_upload_and_publishes_nothing(
    object_store, accepted_project, monkeypatch
):
    project = accepted_project("bbox", images=3)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in a writer")

    monkeypatch.setattr("exports.writers.coco.CocoWriter.finish", broken)
    failed = export_build(export_id=str(export_new(project).pk))
    assert (failed.state, failed.error_code) == (ExportState.FAILED, "export_failed")
    assert _export_keys(object_store) == []
    assert _uploads(object_store) == []


def test_the_sweeper_aborts_uploads_that_killed_builds_left(object_store, settings):
    left = object_store.client.create_multipart_upload(
        Bucket=object_store.name, Key="exports/p/x.zip"
    )
    other = object_store.client.create_multipart_upload(Bucket=object_store.name, Key="images/x")
    assert uploads_abandoned_abort(prefix="exports/", older_than_seconds=-60) == 1
    assert [u["UploadId"] for u in _uploads(object_store)] == [other["UploadId"]]
    assert left["UploadId"] not in str(_uploads(object_store))


def test_an_export_on_the_local_disk_never_touches_the_store(accepted_project, settings):
    project = accepted_project("bbox", images=3)
    built = export_build(export_id=str(export_new(project).pk))
    assert built.state == ExportState.READY
    assert os.path.isfile(services.export_file(export=built))
