"""An export on the object store built by a real Celery worker process (on the exports queue,
through Redis): requested through the API, uploaded to the S3 server, downloaded through the
presigned URL; and with the store stopped when the job runs, retried by the worker once the store
is back, never ready without its object."""

from __future__ import annotations

import urllib.request

import pytest
from django.conf import settings

from exports.models import Export, ExportState
from exports.services import export_name
from exports.tasks import STORE_RETRY_IN
from tests.exports.stored import object_bytes, sha256
from tests.integration.conftest import celery_worker_on  # noqa: F401 - the fixture
from tests.integration.helpers import needs_services, wait_for

pytestmark = [pytest.mark.integration, needs_services]


def _request(client, project) -> Export:
    response = client.post(
        f"/api/v1/projects/{project.pk}/exports/", {"format": "coco"}, format="json"
    )
    assert response.status_code == 202, response.content
    return Export.objects.get(pk=response.json()["id"])


def _state(export: Export) -> Export:
    export.refresh_from_db()
    return export


def test_a_worker_builds_the_export_into_the_store_and_the_owner_downloads_it(
    object_store,
    accepted_project,
    requester_client,
    celery_worker_on,  # noqa: F811
):
    # given a worker whose environment points at the S3 server, as this process's does
    project = accepted_project("bbox", images=5)
    celery_worker_on(settings.REDIS_URL)
    # when the owner asks for an export
    export = _request(requester_client, project)
    # then the worker builds it into the bucket, and the download is the store's URL
    assert wait_for(lambda: _state(export).state == ExportState.READY, timeout=60)
    assert sha256(object_bytes(object_store, export_name(export=export))) == export.sha256
    response = requester_client.get(f"/api/v1/exports/{export.pk}/download/")
    assert response.status_code == 302
    with urllib.request.urlopen(response["Location"], timeout=10) as got:  # noqa: S310 - loopback
        assert sha256(got.read()) == export.sha256


def test_a_store_down_when_the_job_runs_is_retried_by_the_worker_once_it_is_back(
    object_store,
    accepted_project,
    requester_client,
    celery_worker_on,  # noqa: F811
):
    project = accepted_project("bbox", images=4)
    kept = object_store.snapshot()
    celery_worker_on(settings.REDIS_URL)
    # given the store stopped when the job runs
    object_store.server.stop()
    try:
        export = _request(requester_client, project)
        # then the attempt ends pending, with the reason, and no object
        assert wait_for(lambda: _state(export).attempts == 1 and export.state == "pending", 30)
        assert export.error_code == "store_unavailable"
    finally:
        object_store.restore(kept)
    # and once it is back the worker's retry (STORE_RETRY_IN s later) publishes it
    ready = wait_for(lambda: _state(export).state == ExportState.READY, STORE_RETRY_IN + 30)
    assert ready, (export.state, export.error_message)
    assert export.attempts == 2
    assert sha256(object_bytes(object_store, export_name(export=export))) == export.sha256
