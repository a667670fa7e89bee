"""Bad input at POST /api/v1/work/next/, refused by the contract in ``contract.py``."""

from __future__ import annotations

import json

import pytest

from tests.annotations.bad_input.contract import assert_refused, post_raw, stored
from tests.helpers import NOWHERE

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"project": "abc"}, 400, "project"),
        ({"project": 5}, 400, "project"),
        ({"project": True}, 400, "project"),
        ({"project": ["x"]}, 400, "project"),
        ({"project": NOWHERE}, 404, "project"),
        ({"is_gold": True}, 400, "is_gold"),
        ({"worker": 1}, 400, "worker"),
        ([], 400, "body"),
        ("next", 400, "body"),
    ],
)
def test_asking_for_work_with_a_bad_body_is_refused(
    worker_client, project, media_files, body, status, field
):
    before = stored(media_files)
    response = post_raw(worker_client, "/api/v1/work/next/", json.dumps(body))
    assert_refused(response, status, field)
    assert stored(media_files) == before


def test_asking_for_work_on_a_draft_project_looks_like_no_such_project(
    worker_client, make_project, media_files
):
    draft = make_project(images=1, active=False)
    before = stored(media_files)
    response = worker_client.post("/api/v1/work/next/", {"project": str(draft.pk)}, format="json")
    nowhere = worker_client.post("/api/v1/work/next/", {"project": NOWHERE}, format="json")
    assert_refused(response, 404, "project", "not_found")
    assert response.content == nowhere.content
    assert stored(media_files) == before


def test_asking_for_work_with_malformed_json_is_refused(worker_client, project, media_files):
    before = stored(media_files)
    response = post_raw(worker_client, "/api/v1/work/next/", '{"project": ')
    assert_refused(response, 400, "body", "parse_error")
    assert stored(media_files) == before
