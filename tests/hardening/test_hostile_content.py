"""Uploaded bytes are never served as they came: images are re-encoded, served with nosniff, a
sandboxing policy and as a named inline file (RELIABILITY U2, X1)."""

import io

import pytest
from PIL import Image

from tests.conftest import lease, png_bytes

pytestmark = pytest.mark.django_db

SCRIPT = b"<html><script>alert(document.cookie)</script></html>"


def _jpeg_with_comment(comment: bytes) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, "JPEG", comment=comment)
    return out.getvalue()


@pytest.mark.parametrize(
    "payload",
    [png_bytes(seed=77) + SCRIPT, _jpeg_with_comment(SCRIPT)],
    ids=["script-after-png", "script-in-jpeg-comment"],
)
def test_a_polyglot_upload_is_served_without_its_script(
    requester_client, worker_client, make_project, payload
):
    project = make_project(images=0)
    upload = io.BytesIO(payload)
    upload.name = "poly.png"
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/tasks/", {"images": [upload]}, format="multipart"
    )
    assert len(response.json()["tasks"]) == 1, response.content
    work = lease(worker_client, project)
    served = worker_client.get(work["image_url"])
    body = b"".join(served.streaming_content) if served.streaming else served.content
    assert served.status_code == 200
    assert b"<script" not in body
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Type"] in ("image/png", "image/jpeg", "image/webp")
    assert "sandbox" in served["Content-Security-Policy"]
    assert served["Content-Disposition"].startswith("inline")
