"""The export API: 202 and a job, its state and counts, a download for the owner only, and the
same JSON refusals as everywhere else."""

from __future__ import annotations

import io
import zipfile

import pytest
from rest_framework.test import APIClient

from annotations.models import Task
from exports.models import Export, ExportState
from tests.exports.helpers import assert_refused, sha256
from tests.helpers import NOWHERE

pytestmark = pytest.mark.django_db


def start(client: APIClient, project, body: dict | None = None):
    return client.post(
        f"/api/v1/projects/{project.pk}/exports/", body or {"format": "coco"}, format="json"
    )


def download(client: APIClient, export_id) -> bytes:
    response = client.get(f"/api/v1/exports/{export_id}/download/")
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def test_an_export_starts_as_a_job_and_is_ready_to_download_with_its_counts(
    requester_client, accepted_project, django_capture_on_commit_callbacks
):
    # given a project with accepted boxes
    project = accepted_project("bbox", images=6, gold=1)
    # when its owner asks for a COCO export (the job runs when the request commits)
    with django_capture_on_commit_callbacks(execute=True):
        response = start(requester_client, project, {"format": "coco", "split": [0.6, 0.2, 0.2]})
    # then the answer is 202 with the job, which is now ready
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["version"], body["format"], body["state"]) == (1, "coco", "pending")
    assert response["Location"] == f"/api/v1/exports/{body['id']}/"
    status = requester_client.get(f"/api/v1/exports/{body['id']}/").json()
    assert status["state"] == "ready"
    assert status["counts"]["images"]["total"] == 6
    assert status["options"]["split"] == {"train": 0.6, "val": 0.2, "test": 0.2}
    assert status["download_url"] == f"http://testserver/api/v1/exports/{body['id']}/download/"
    # and the owner downloads a zip whose hash the status gave
    response = requester_client.get(f"/api/v1/exports/{body['id']}/download/")
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="bbox-project-v1-coco.zip"'
    )
    data = b"".join(response.streaming_content)
    assert sha256(data) == status["sha256"]
    assert len(data) == status["size"]
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


def test_a_second_export_of_unchanged_labels_is_a_new_version_with_the_same_bytes(
    requester_client, accepted_project, django_capture_on_commit_callbacks
):
    project = accepted_project("polygon", images=4)
    ids = []
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            ids.append(start(requester_client, project, {"format": "yolo"}).json()["id"])
    first, second = (Export.objects.get(pk=i) for i in ids)
    assert (first.version, second.version) == (1, 2)
    assert download(requester_client, ids[0]) == download(requester_client, ids[1])
    assert first.sha256 == second.sha256


def test_requests_made_while_an_export_is_pending_join_it(
    requester_client, accepted_project, django_capture_on_commit_callbacks
):
    # given an export that is still waiting for a worker
    project = accepted_project("bbox", images=2)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        first = start(requester_client, project, {"format": "voc"}).json()
        # when the same export is asked for again, and a different one
        again = start(requester_client, project, {"format": "voc"}).json()
        other = start(requester_client, project, {"format": "voc", "min_confidence": 0.5}).json()
    # then the same one is joined, and only different options make a new version
    assert again["id"] == first["id"]
    assert other["version"] == 2
    assert len(sent) == 2  # one build job per export
    assert Export.objects.filter(project=project).count() == 2


def test_a_project_lists_its_exports(requester_client, accepted_project):
    project = accepted_project("bbox", images=2)
    start(requester_client, project)
    listed = requester_client.get(f"/api/v1/projects/{project.pk}/exports/").json()["results"]
    assert [e["version"] for e in listed] == [1]


def test_the_download_waits_for_the_export_to_be_ready(requester_client, accepted_project):
    project = accepted_project("bbox", images=2)
    export_id = start(requester_client, project).json()["id"]  # the job never ran
    response = requester_client.get(f"/api/v1/exports/{export_id}/download/")
    assert_refused(response, 409, "export", "export_not_ready")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"format": "tfrecord"}, "format", "unknown_format"),
        ({"format": "imagefolder"}, "format", "format_not_supported"),
        ({"format": "coco", "split": [0.8, 0.1]}, "split", "invalid_split"),
        ({"format": "coco", "split": [0.8, 0.3, 0.1]}, "split", "invalid_split"),
        ({"format": "coco", "split": [1.1, -0.1, 0]}, "split", "invalid_split"),
        ({"format": "coco", "min_confidence": 2}, "min_confidence", "invalid_confidence"),
        ({"format": "coco", "states": ["review"]}, "states", "unknown_field"),
        ({}, "format", "required"),
    ],
)
def test_bad_export_requests_are_refused_naming_the_field(
    requester_client, accepted_project, body, field, code
):
    project = accepted_project("bbox", images=1)
    response = start(requester_client, project, body or {"split": [1, 0, 0]})
    assert_refused(response, 400, field, code)
    assert not Export.objects.exists()


def test_an_empty_project_cannot_be_exported(requester_client, make_project):
    project = make_project("bbox", images=2)
    assert_refused(start(requester_client, project), 400, "project", "empty_export")
    assert not Export.objects.exists()


def test_a_failed_build_says_why_in_the_status(
    requester_client, accepted_project, django_capture_on_commit_callbacks
):
    # given an export whose tasks all lose their image before the job runs
    project = accepted_project("bbox", images=1)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        export_id = start(requester_client, project).json()["id"]
    Task.objects.filter(project=project).update(image="../../etc/passwd")
    sent[0]()
    status = requester_client.get(f"/api/v1/exports/{export_id}/").json()
    assert status["state"] == "failed"
    assert status["error"]["code"] == "empty_export"
    assert status["download_url"] is None


# --- who may do what -------------------------------------------------------------------------


@pytest.fixture
def ready_export(requester_client, accepted_project, django_capture_on_commit_callbacks) -> Export:
    project = accepted_project("bbox", images=2)
    with django_capture_on_commit_callbacks(execute=True):
        export_id = start(requester_client, project).json()["id"]
    export = Export.objects.get(pk=export_id)
    assert export.state == ExportState.READY
    return export


ROUTES = [
    ("post", "/api/v1/projects/{project}/exports/"),
    ("get", "/api/v1/projects/{project}/exports/"),
    ("get", "/api/v1/exports/{export}/"),
    ("get", "/api/v1/exports/{export}/download/"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_another_requester_gets_the_404_of_a_missing_object(
    other_requester_client, ready_export, method, path
):
    theirs = path.format(project=ready_export.project_id, export=ready_export.pk)
    missing = path.format(project=NOWHERE, export=NOWHERE)
    body = {"format": "coco"} if method == "post" else None
    response = getattr(other_requester_client, method)(theirs, body, format="json")
    nowhere = getattr(other_requester_client, method)(missing, body, format="json")
    assert_refused(response, 404, None, "not_found")
    assert response.content == nowhere.content
    assert Export.objects.count() == 1


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_workers_get_403_and_anonymous_callers_401(worker_client, ready_export, method, path):
    url = path.format(project=ready_export.project_id, export=ready_export.pk)
    body = {"format": "coco"} if method == "post" else None
    assert_refused(getattr(worker_client, method)(url, body, format="json"), 403, None)
    assert_refused(getattr(APIClient(), method)(url, body, format="json"), 401, None)


def test_staff_see_an_export_but_only_the_owner_downloads_it(make_user, make_client, ready_export):
    admin = make_client(make_user(name="admin", staff=True))
    assert admin.get(f"/api/v1/exports/{ready_export.pk}/").status_code == 200
    response = admin.get(f"/api/v1/exports/{ready_export.pk}/download/")
    assert_refused(response, 404, None, "not_found")


def test_reading_export_routes_changes_nothing(requester_client, ready_export):
    before = list(Export.objects.values())
    requester_client.get(f"/api/v1/exports/{ready_export.pk}/")
    requester_client.get(f"/api/v1/projects/{ready_export.project_id}/exports/")
    download(requester_client, ready_export.pk)
    assert list(Export.objects.values()) == before


def test_starting_exports_too_often_is_throttled_per_requester(
    requester_client, other_requester_client, accepted_project, monkeypatch
):
    from django.core.cache import cache

    from sebenzai.common.throttles import ExportCreateThrottle

    cache.clear()
    # DRF reads the rates once, when the module is imported: set this class's rate directly.
    monkeypatch.setattr(ExportCreateThrottle, "rate", "2/hour", raising=False)
    project = accepted_project("bbox", images=2)
    assert [start(requester_client, project).status_code for _ in range(3)] == [202, 202, 429]
    body = start(requester_client, project).json()
    assert body["error"]["code"] == "throttled"
    # reading the list is not throttled, nor is another requester
    assert requester_client.get(f"/api/v1/projects/{project.pk}/exports/").status_code == 200
    assert start(other_requester_client, project).status_code == 404
