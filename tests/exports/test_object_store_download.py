"""Downloading an export kept on the object store: after the owner check, a 302 to a short-lived
URL that saves the zip under its usual name (or the bytes streamed, by setting); a zip that is
gone is a 410, a store that is down a 503; the API and webhook keep our own download URL."""

from __future__ import annotations

import urllib.request

import pytest
from django.core.management import CommandError, call_command

from exports.models import ExportState
from exports.services import export_build, export_file, export_name
from exports.webhooks import export_event
from tests.exports.helpers import tree_bytes
from tests.exports.stored import export_new, object_bytes, sha256

pytestmark = pytest.mark.django_db


def _url(export) -> str:
    return f"/api/v1/exports/{export.pk}/download/"


@pytest.fixture
def stored_export(object_store, accepted_project):
    project = accepted_project("bbox", images=4, name="Road signs")
    export = export_build(export_id=str(export_new(project).pk))
    assert export.state == ExportState.READY
    return export


def test_the_owner_is_redirected_to_a_presigned_url_that_saves_the_zip_under_its_name(
    requester_client, stored_export, settings
):
    settings.MEDIA_DELIVERY = "redirect"
    response = requester_client.get(_url(stored_export))
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    location = response["Location"]
    assert "X-Amz-Signature=" in location
    assert "X-Amz-Expires=300" in location
    # the store answers the URL with the zip, named as the download always named it
    with urllib.request.urlopen(location, timeout=10) as got:  # noqa: S310 - loopback
        body = got.read()
        disposition, kind = got.headers["Content-Disposition"], got.headers["Content-Type"]
    assert sha256(body) == stored_export.sha256
    assert disposition == 'attachment; filename="road-signs-v1-coco.zip"'
    assert kind == "application/zip"


def test_with_stream_delivery_the_bytes_come_through_the_app(
    requester_client, stored_export, settings
):
    settings.MEDIA_DELIVERY = "stream"
    response = requester_client.get(_url(stored_export))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert sha256(body) == stored_export.sha256
    assert response["Content-Length"] == str(stored_export.size)
    assert response["Content-Disposition"] == 'attachment; filename="road-signs-v1-coco.zip"'
    assert response["Cache-Control"] == "private, no-store"


def test_another_requester_gets_a_404_and_no_url(make_user, make_client, stored_export):
    other = make_client(make_user("requester", "req_b"))
    response = other.get(_url(stored_export))
    assert response.status_code == 404
    assert "Location" not in response


@pytest.mark.parametrize("delivery", ["redirect", "stream"])
def test_a_zip_gone_from_the_store_is_a_410(
    requester_client, stored_export, object_store, settings, delivery
):
    settings.MEDIA_DELIVERY = delivery
    key = export_name(export=stored_export)
    object_store.client.delete_object(Bucket=object_store.name, Key=key)
    response = requester_client.get(_url(stored_export))
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "export_missing"


def test_a_zip_gone_from_the_local_disk_is_a_410_too(requester_client, accepted_project):
    export = export_build(export_id=str(export_new(accepted_project("bbox", images=2)).pk))
    export_file(export=export).unlink()
    response = requester_client.get(_url(export))
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "export_missing"


@pytest.mark.parametrize("delivery", ["redirect", "stream"])
def test_a_store_that_is_down_is_a_503_and_the_export_stays_ready(
    requester_client, stored_export, object_store, settings, delivery
):
    settings.MEDIA_DELIVERY = delivery
    with object_store.stopped():
        response = requester_client.get(_url(stored_export))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "store_unavailable"
    stored_export.refresh_from_db()
    assert stored_export.state == ExportState.READY
    assert requester_client.get(_url(stored_export)).status_code in (200, 302)


def test_the_api_and_the_webhook_carry_our_download_url_never_a_presigned_one(
    requester_client, stored_export
):
    ours = f"http://testserver{_url(stored_export)}"
    detail = requester_client.get(f"/api/v1/exports/{stored_export.pk}/").json()
    assert detail["download_url"] == ours
    assert export_event(export=stored_export)["download_url"] == ours


def test_the_command_reads_images_from_the_store(object_store, accepted_project, tmp_path):
    project = accepted_project("bbox", images=3)
    call_command("export_dataset", str(project.pk), format="yolo", out=str(tmp_path / "d"))
    written = tree_bytes(tmp_path / "d")
    images = {k: v for k, v in written.items() if k.startswith("images/")}
    assert len(images) == 3
    stored = {sha256(object_bytes(object_store, t.image)) for t in project.tasks.all()}
    assert {sha256(v) for v in images.values()} == stored
    out = tmp_path / "e.zip"
    call_command("export_dataset", str(project.pk), format="coco", out=str(out), zip=True)
    built = export_build(export_id=str(export_new(project).pk))
    assert sha256(out.read_bytes()) == built.sha256  # the same zip the API builds


def test_the_command_with_the_store_down_exits_with_one_readable_line(
    object_store, accepted_project, tmp_path
):
    project = accepted_project("bbox", images=2)
    with object_store.stopped(), pytest.raises(CommandError) as failed:
        call_command("export_dataset", str(project.pk), format="coco", out=str(tmp_path / "x"))
    assert str(failed.value).startswith("store: the file store did not answer")
    assert "\n" not in str(failed.value)
    assert not (tmp_path / "x").exists()
