"""Bad input at POST /api/v1/work/assignments/{id}/skip/, refused by the contract in
``contract.py``."""

from __future__ import annotations

import json

import pytest

from tests.annotations.bad_input.contract import assert_refused, post_raw, stored
from tests.helpers import NOWHERE, lease, submit

pytestmark = pytest.mark.django_db


def test_skipping_someone_elses_lease_looks_like_no_such_lease(
    worker_clients, project, media_files
):
    work = lease(worker_clients[0], project)
    before = stored(media_files)
    theirs = worker_clients[1].post(f"/api/v1/work/assignments/{work['assignment']}/skip/")
    nowhere = worker_clients[1].post(f"/api/v1/work/assignments/{NOWHERE}/skip/")
    assert_refused(theirs, 404, "assignment", "not_found")
    assert theirs.content == nowhere.content
    assert stored(media_files) == before


@pytest.mark.parametrize("first", ["skip", "submit"])
def test_skipping_a_lease_that_is_already_finished_is_a_conflict(
    worker_client, project, media_files, first
):
    work = lease(worker_client, project)
    url = f"/api/v1/work/assignments/{work['assignment']}"
    if first == "skip":
        assert worker_client.post(f"{url}/skip/").status_code == 200
    else:
        assert submit(worker_client, work["assignment"], {"label": "taxi"}).status_code == 201
    before = stored(media_files)
    response = worker_client.post(f"{url}/skip/")
    assert_refused(response, 409, "assignment")
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({"status": "submitted"}, "status"), ({"points": 5}, "points"), ([1], "body")],
)
def test_skipping_with_unknown_fields_is_refused(worker_client, project, media_files, body, field):
    work = lease(worker_client, project)
    before = stored(media_files)
    response = post_raw(
        worker_client, f"/api/v1/work/assignments/{work['assignment']}/skip/", json.dumps(body)
    )
    assert_refused(response, 400, field)
    assert stored(media_files) == before
