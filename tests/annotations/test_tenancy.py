"""Tenancy and roles, route by route: another requester's objects are 404 with the very bytes of
a missing object; workers get 403 on requester routes; anonymous callers get 401; a task image is
only for its owner and the worker holding a live lease on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import user_role
from annotations.models import Task
from tests.annotations.bad_input.contract import assert_refused, stored
from tests.helpers import NOWHERE, lease, png_bytes, submit
from tests.predictions.helpers import ONNX, upload_form

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Route:
    name: str  # the URL name, so the coverage test can tell a new route from a classified one
    method: str
    path: str  # with {project}, {task}, {assignment} and {export} placeholders
    body: Callable[[str], dict] | None = None  # task id -> body
    format: str = "json"

    def call(
        self,
        client: APIClient,
        *,
        project=NOWHERE,
        task=NOWHERE,
        assignment=NOWHERE,
        export=NOWHERE,
    ):
        url = self.path.format(project=project, task=task, assignment=assignment, export=export)
        body = self.body(str(task)) if self.body else None
        return getattr(client, self.method)(url, body, format=self.format)


def _images(task: str) -> dict:
    return {"images": [SimpleUploadedFile("new.png", png_bytes(seed=901), "image/png")]}


def _model(task: str) -> dict:
    return upload_form()


REQUESTER_OBJECT_ROUTES = [
    Route("project-detail", "get", "/api/v1/projects/{project}/"),
    Route("project-detail", "patch", "/api/v1/projects/{project}/", lambda t: {"name": "Mine now"}),
    Route("project-upload", "post", "/api/v1/projects/{project}/tasks/", _images, "multipart"),
    Route(
        "project-gold",
        "post",
        "/api/v1/projects/{project}/gold/",
        lambda t: {"gold": [{"task": t, "answer": {"label": "taxi"}}]},
    ),
    Route("project-progress", "get", "/api/v1/projects/{project}/progress/"),
    Route("project-results", "get", "/api/v1/projects/{project}/results/"),
    Route("project-predictions", "get", "/api/v1/projects/{project}/predictions/"),
    Route(
        "project-predictions",
        "post",
        "/api/v1/projects/{project}/predictions/",
        lambda t: {
            "model": "m@1",
            "predictions": [{"task": t, "payload": {"label": "taxi", "score": 1}}],
        },
    ),
    Route("project-models", "get", "/api/v1/projects/{project}/models/"),
    # The owner's upload succeeds only where the onnx extra is installed (else onnx_unavailable).
    *(
        [Route("project-models", "post", "/api/v1/projects/{project}/models/", _model, "multipart")]
        if ONNX
        else []
    ),
    Route("task-image", "get", "/api/v1/tasks/{task}/image/"),
]
TASK_IMAGE = REQUESTER_OBJECT_ROUTES[-1]
# Exports and webhooks (exports/): refused here before any export logic runs.
EXPORT_OBJECT_ROUTES = [
    Route("project-exports", "get", "/api/v1/projects/{project}/exports/"),
    Route(
        "project-exports",
        "post",
        "/api/v1/projects/{project}/exports/",
        lambda t: {"format": "csv"},
    ),
    Route("project-webhook", "get", "/api/v1/projects/{project}/webhook/"),
    Route(
        "project-webhook",
        "put",
        "/api/v1/projects/{project}/webhook/",
        lambda t: {"url": "https://hooks.example.org/sebenzai"},
    ),
    Route("project-webhook", "delete", "/api/v1/projects/{project}/webhook/"),
    Route("project-webhook-deliveries", "get", "/api/v1/projects/{project}/webhook/deliveries/"),
    Route("export-detail", "get", "/api/v1/exports/{export}/"),
    Route("export-download", "get", "/api/v1/exports/{export}/download/"),
]
REQUESTER_ROUTES = [
    Route("project-list", "get", "/api/v1/projects/"),
    Route(
        "project-list",
        "post",
        "/api/v1/projects/",
        lambda t: {"name": "Sneaky", "kind": "classification", "labels": ["a", "b"]},
    ),
    *[route for route in REQUESTER_OBJECT_ROUTES if route.name != "task-image"],
    *EXPORT_OBJECT_ROUTES,
]
WORKER_ROUTES = [
    Route("work-next", "post", "/api/v1/work/next/", lambda t: {}),
    Route(
        "work-submit",
        "post",
        "/api/v1/work/assignments/{assignment}/submit/",
        lambda t: {"payload": {"label": "taxi"}},
    ),
    Route("work-skip", "post", "/api/v1/work/assignments/{assignment}/skip/"),
    Route("work-release", "post", "/api/v1/work/assignments/{assignment}/release/"),
    Route("work-feedback", "get", "/api/v1/work/feedback/"),
]
ACCOUNT_ROUTES = [
    Route("me", "get", "/api/v1/me/"),
    Route("auth-token", "post", "/api/v1/auth/token/"),
    Route("auth-register", "post", "/api/v1/auth/register/"),
]
PUBLIC = {"auth-token", "auth-register"}  # the only routes an anonymous caller may use


def _id(route: Route) -> str:
    return f"{route.method.upper()} {route.name}"


def test_every_api_route_is_classified_in_this_file():
    # given every named route under /api/v1/
    api = next(
        p
        for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and "api/v1" in str(p.pattern)
    )
    # (the staff API, one include, is staff-only as a whole: tests/consensus/test_review*.py;
    # the other includes, e.g. exports/urls.py, are an app's part of this one API)
    served = {
        route.name
        for pattern in api.url_patterns
        if str(pattern.pattern) != "staff/"
        for route in (pattern.url_patterns if isinstance(pattern, URLResolver) else [pattern])
    }
    # then each one is in a table above: a new route fails here until someone decides who may call it
    classified = {r.name for r in REQUESTER_ROUTES + [TASK_IMAGE] + WORKER_ROUTES + ACCOUNT_ROUTES}
    assert served == classified


# --- requester B and requester A's objects ---------------------------------------------------


def _export_of(client: APIClient, project) -> str:
    """An export of ``project``, with one task decided so that there is something to export."""
    Task.objects.filter(pk=Task.objects.filter(project=project).first().pk).update(
        state="accepted",
        accepted_label={"label": "taxi"},
        confidence=0.95,
        decided_at=timezone.now(),
    )
    response = client.post(
        f"/api/v1/projects/{project.pk}/exports/", {"format": "csv"}, format="json"
    )
    assert response.status_code == 202, response.content
    return response.json()["id"]


@pytest.mark.parametrize("route", REQUESTER_OBJECT_ROUTES + EXPORT_OBJECT_ROUTES, ids=_id)
def test_another_requesters_object_is_a_404_byte_identical_to_a_missing_one(
    requester_client, other_requester_client, project, media_files, route
):
    # given requester A's project, one of its tasks and (for export routes) an export of it
    task = Task.objects.filter(project=project).first()
    export = _export_of(requester_client, project) if "{export}" in route.path else NOWHERE
    before = stored(media_files)
    # when requester B uses A's ids, and ids that exist nowhere
    theirs = route.call(other_requester_client, project=project.pk, task=task.pk, export=export)
    missing = route.call(other_requester_client)
    # then both are the same 404, and nothing of A's changed
    assert_refused(theirs, 404, None, "not_found")
    assert theirs.content == missing.content
    assert theirs["Content-Type"] == missing["Content-Type"]
    assert stored(media_files) == before


@pytest.mark.parametrize("route", REQUESTER_OBJECT_ROUTES, ids=_id)
def test_the_owner_reaches_every_object_route_the_other_requester_cannot(
    requester_client, project, route
):
    task = Task.objects.filter(project=project).first()
    response = route.call(requester_client, project=project.pk, task=task.pk)
    assert response.status_code in (200, 201), response.content


def test_project_lists_never_contain_another_requesters_rows(
    requester_client, other_requester_client, project, make_project
):
    # given one project each
    theirs = make_project(owner=other_requester_client.user, name="B's project")
    # when each lists projects
    mine_listed = requester_client.get("/api/v1/projects/").json()["results"]
    theirs_listed = other_requester_client.get("/api/v1/projects/").json()["results"]
    # then each sees only their own
    assert [p["id"] for p in mine_listed] == [str(project.pk)]
    assert [p["id"] for p in theirs_listed] == [str(theirs.pk)]


def test_results_list_only_the_projects_own_tasks(
    requester_client, other_requester_client, project, make_project
):
    make_project(owner=other_requester_client.user, images=4, name="B's project")
    results = requester_client.get(f"/api/v1/projects/{project.pk}/results/").json()["results"]
    own = {str(pk) for pk in Task.objects.filter(project=project).values_list("pk", flat=True)}
    assert {row["id"] for row in results} == own


def test_staff_see_every_project(
    make_user, make_client, project, other_requester_client, make_project
):
    theirs = make_project(owner=other_requester_client.user, name="B's project")
    staff = make_client(make_user(name="admin", staff=True))
    listed = {p["id"] for p in staff.get("/api/v1/projects/").json()["results"]}
    assert listed == {str(project.pk), str(theirs.pk)}


# --- roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", REQUESTER_ROUTES, ids=_id)
def test_a_worker_gets_403_on_requester_routes_whatever_the_id(
    worker_client, project, media_files, route
):
    task = Task.objects.filter(project=project).first()
    before = stored(media_files)
    existing = route.call(worker_client, project=project.pk, task=task.pk)
    missing = route.call(worker_client)
    assert_refused(existing, 403, None, "permission_denied")
    assert existing.content == missing.content
    assert stored(media_files) == before


@pytest.mark.parametrize("route", WORKER_ROUTES, ids=_id)
def test_a_requester_gets_403_on_worker_routes(
    requester_client, worker_client, project, media_files, route
):
    work = lease(worker_client, project)
    before = stored(media_files)
    response = route.call(requester_client, assignment=work["assignment"])
    assert_refused(response, 403, None, "permission_denied")
    assert stored(media_files) == before


ANONYMOUS_ROUTES = [
    r
    for r in [*REQUESTER_ROUTES, TASK_IMAGE, *WORKER_ROUTES, *ACCOUNT_ROUTES]
    if r.name not in PUBLIC
]


@pytest.mark.parametrize("route", ANONYMOUS_ROUTES, ids=_id)
def test_an_anonymous_caller_gets_401_everywhere_but_sign_up_and_log_in(
    worker_client, project, media_files, route
):
    work = lease(worker_client, project)
    before = stored(media_files)
    response = route.call(
        APIClient(), project=project.pk, task=work["task"], assignment=work["assignment"]
    )
    assert_refused(response, 401, None, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Token")
    assert stored(media_files) == before


def test_a_bad_token_is_401_not_anonymous_access(project):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/projects/")
    assert_refused(response, 401, None, "authentication_failed")


# --- task images -----------------------------------------------------------------------------


def _finish(how: str, clients: list[APIClient], work: dict) -> APIClient:
    """Leave ``clients[0]``'s lease in the named state; return the client that asks next."""
    url = f"/api/v1/work/assignments/{work['assignment']}"
    if how == "submitted":
        assert submit(clients[0], work["assignment"], {"label": "taxi"}).status_code == 201
    elif how == "skipped":
        assert clients[0].post(f"{url}/skip/").status_code == 200
    return clients[1] if how == "someone else's" else clients[0]


@pytest.mark.parametrize(
    "how", ["never leased", "submitted", "skipped", "expired", "someone else's"]
)
def test_a_worker_without_a_live_lease_gets_404_for_a_task_image(
    worker_clients, project, settings, how
):
    # given a task whose lease by worker 0 is in the named state
    work = lease(worker_clients[0], project)
    asker = worker_clients[2] if how == "never leased" else _finish(how, worker_clients, work)
    url = f"/api/v1/tasks/{work['task']}/image/"
    when = timezone.now()
    if how == "expired":
        when += timedelta(seconds=settings.SEBENZAI["LEASE_SECONDS"] + 1)
    # when that worker asks for the image, and for an image that does not exist
    with time_machine.travel(when, tick=False):
        response = asker.get(url)
        missing = asker.get(f"/api/v1/tasks/{NOWHERE}/image/")
    # then it is the same 404
    assert_refused(response, 404, None, "not_found")
    assert response.content == missing.content


def test_the_worker_holding_the_lease_gets_the_image(worker_client, project):
    work = lease(worker_client, project)
    response = worker_client.get(f"/api/v1/tasks/{work['task']}/image/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


def test_a_malformed_task_id_is_the_same_404_as_a_missing_one(worker_client):
    malformed = worker_client.get("/api/v1/tasks/not-a-uuid/image/")
    missing = worker_client.get(f"/api/v1/tasks/{NOWHERE}/image/")
    assert_refused(malformed, 404, None, "not_found")
    assert malformed.content == missing.content


# --- /me/ is read-only -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "put", "post", "delete"])
def test_me_is_read_only_so_a_worker_cannot_change_their_role(worker_client, media_files, method):
    before = stored(media_files)
    response = getattr(worker_client, method)(
        "/api/v1/me/", {"role": "requester", "is_staff": True, "points": 10_000}, format="json"
    )
    assert_refused(response, 405, None, "method_not_allowed")
    assert stored(media_files) == before
    assert user_role(user=worker_client.user) == "worker"
    assert worker_client.get("/api/v1/me/").json()["role"] == "worker"
