"""/readyz's storage check on S3: one cheap round trip to the store, "down" and a 503 within a
few seconds when the store does not answer."""

from __future__ import annotations

import socket
import time

import pytest
from django.test import Client

from sebenzai.object_store_settings import object_store_settings
from tests.processes import HOST

pytestmark = pytest.mark.django_db


def test_readyz_finds_the_object_store_answering(object_store):
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["storage"] == "ok"


def test_readyz_is_a_quick_503_naming_storage_when_the_store_is_down(object_store):
    Client().get("/readyz")  # the probe's client is made and kept
    with object_store.stopped():
        started = time.monotonic()
        response = Client().get("/readyz")
        took = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "down"
    assert object_store.server.endpoint.split("//")[1] not in response.content.decode()
    assert took < 4


def test_readyz_finds_a_missing_bucket_down(object_store):
    object_store.client.delete_bucket(Bucket=object_store.name)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "down"


def test_readyz_gives_up_quickly_on_a_store_that_never_answers(object_store, settings, monkeypatch):
    # given a store address that takes the connection and then says nothing
    with socket.socket() as silent:
        silent.bind((HOST, 0))
        silent.listen(8)
        monkeypatch.setenv("S3_ENDPOINT_URL", f"http://{HOST}:{silent.getsockname()[1]}")
        settings.STORAGES = {**settings.STORAGES, "default": object_store_settings()}
        started = time.monotonic()
        response = Client().get("/readyz")
        took = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "down"
    assert took < 4
