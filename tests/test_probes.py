"""/healthz and /readyz for load balancers: open, unthrottled, and 503 naming the check that
fails. The services themselves going down for real is covered in tests/test_health.py and
tests/integration/test_redis_outage.py; here each check is made to fail by hand."""

import pytest
from django.test import Client

from sebenzai.common import health

pytestmark = pytest.mark.django_db


def test_healthz_answers_anyone_without_touching_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ready_when_every_service_answers():
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["storage"] == "ok"
    # The embedded default has no Redis: not configured counts as ready.
    assert set(body["checks"].values()) <= {"ok", "unused"}


def test_readyz_is_503_naming_the_database_when_it_does_not_answer(monkeypatch):
    def down():
        raise OSError("connection refused by 10.0.0.5")

    monkeypatch.setattr(health, "_database_ping", down)
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body == {**body, "status": "unavailable"}
    assert body["checks"]["database"] == "down"
    assert "10.0.0.5" not in response.content.decode()  # nothing of the set-up leaks


def test_readyz_is_503_when_the_file_store_cannot_be_written(settings, tmp_path):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder")
    settings.MEDIA_ROOT = str(in_the_way / "media")
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "down"


def test_probes_take_get_only():
    assert Client().post("/healthz").status_code == 405
    assert Client().post("/readyz").status_code == 405
