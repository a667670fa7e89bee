"""Fixtures for the file store tests: each store in turn (the local disk, then S3 on the test's
server process), a store that is down for the length of a block, and reading an image the way a
browser does (following the redirect to the store)."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass

import pytest

from tests.integration.conftest import celery_worker_on  # noqa: F401 - a fixture, for one test
from tests.processes import Bucket


@pytest.fixture(params=["disk", "s3"])
def file_store(request) -> Bucket | None:
    """The local disk (None), or a fresh bucket of the S3 server as the default storage."""
    return request.getfixturevalue("object_store") if request.param == "s3" else None


@dataclass
class Fetched:
    status: int  # of the app's answer (200, or 302 when the bytes came from the store)
    content: bytes
    content_type: str
    location: str = ""


def fetch_image(client, url: str, **params) -> Fetched:
    """GET through the API client; a 302 is followed with urllib, as a browser would."""
    response = client.get(url, params)
    if response.status_code != 302:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return Fetched(response.status_code, body, response.get("Content-Type", ""))
    location = response["Location"]
    with urllib.request.urlopen(location, timeout=10) as answer:  # noqa: S310 - loopback store
        content_type = answer.headers["Content-Type"]
        return Fetched(302, answer.read(), content_type, location)
