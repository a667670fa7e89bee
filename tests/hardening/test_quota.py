"""Storage quotas: images per project and per requester, refused file by file with a reason that
names the quota, exact even when uploads race."""

import pytest
from django.conf import settings as django_settings

from annotations.models import Task
from annotations.services.intake import IncomingFile, tasks_create_from_files
from tests.helpers import at_once, png_bytes, png_files


def _files(seeds) -> list[IncomingFile]:
    return [IncomingFile(f"images[{s}]", f"q{s}.png", lambda s=s: png_bytes(seed=s)) for s in seeds]


@pytest.mark.django_db
def test_images_past_the_requesters_quota_are_refused_across_projects(
    requester_client, make_project, settings
):
    settings.SEBENZAI = {**settings.SEBENZAI, "REQUESTER_MAX_TASKS": 4}
    make_project(images=2, name="first")
    second = make_project(images=1, name="second")
    uploads = png_files("a{}.png", (201, 202, 203))
    response = requester_client.post(
        f"/api/v1/projects/{second.pk}/tasks/", {"images": uploads}, format="multipart"
    )
    body = response.json()
    assert response.status_code == 201
    assert len(body["tasks"]) == 1
    assert [(e["code"], e["file"]) for e in body["errors"]] == [
        ("quota_exceeded", "a202.png"),
        ("quota_exceeded", "a203.png"),
    ]
    assert "account" in body["errors"][0]["message"]
    assert Task.objects.filter(project__owner=requester_client.user).count() == 4


@pytest.mark.django_db
def test_another_requesters_images_do_not_count_against_mine(
    make_project, other_requester_client, settings
):
    settings.SEBENZAI = {**settings.SEBENZAI, "REQUESTER_MAX_TASKS": 3}
    make_project(images=3, owner=other_requester_client.user)
    mine = make_project(images=3)
    assert Task.objects.filter(project=mine).count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not django_settings.USING_POSTGRES, reason="row locks need PostgreSQL")
@pytest.mark.parametrize("quota", ["PROJECT_MAX_TASKS", "REQUESTER_MAX_TASKS"])
def test_two_uploads_racing_never_store_past_the_quota(make_project, settings, quota):
    settings.SEBENZAI = {**settings.SEBENZAI, quota: 5}
    project = make_project(images=1)
    reports = at_once(
        [
            lambda: tasks_create_from_files(project=project, files=iter(_files(range(300, 303)))),
            lambda: tasks_create_from_files(project=project, files=iter(_files(range(310, 313)))),
        ]
    )
    created = sum(len(r.created) for r in reports)
    refused = sum(e["code"] == "quota_exceeded" for r in reports for e in r.errors)
    assert Task.objects.filter(project=project).count() == 5
    assert (created, refused) == (4, 2)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not django_settings.USING_POSTGRES, reason="row locks need PostgreSQL")
def test_an_upload_that_loses_a_quota_race_leaves_no_image_file_behind(
    make_project, settings, media_files
):
    settings.SEBENZAI = {**settings.SEBENZAI, "PROJECT_MAX_TASKS": 5}
    project = make_project(images=1)
    at_once(
        [
            lambda: tasks_create_from_files(project=project, files=iter(_files(range(320, 324)))),
            lambda: tasks_create_from_files(project=project, files=iter(_files(range(330, 334)))),
        ]
    )
    stored = {path for path in media_files() if path.startswith("images/")}
    assert stored == set(Task.objects.values_list("image", flat=True))
