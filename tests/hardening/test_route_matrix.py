"""Every API operation the OpenAPI schema declares, called by each role, against the status that
role must get. A route or method that is not in the table fails the coverage test until someone
decides who may call it; a method the schema does not declare changes nothing for anyone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver, resolve
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import Role
from annotations.models import Task, TaskState
from annotations.services.intake import IncomingFile, tasks_create_from_files
from tests.consensus.test_review import answer
from tests.helpers import PASSWORD, client_for, db_snapshot, lease, png_bytes
from tests.predictions.helpers import UPLOAD_STATUS, upload_form

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "worker", "requester_a", "requester_b", "staff")
NOWHERE = "00000000-0000-4000-8000-000000000000"


@dataclass
class World:
    """Requester A's project with a task in review, an accepted task with an export, and an open
    task leased by the worker; requester B owns nothing of it; staff own nothing but may see all."""

    clients: dict[str, APIClient]
    ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Op:
    expected: tuple[int, int, int, int, int]  # in the order of ROLES
    body: Callable[[World], dict] | None = None
    format: str = "json"
    params: dict[str, str] = field(default_factory=dict)  # path parameter -> World.ids key

    def status_for(self, role: str) -> int:
        return self.expected[ROLES.index(role)]


def _upload(world: World) -> dict:
    return {"images": [SimpleUploadedFile("new.png", png_bytes(seed=77), "image/png")]}


def _review(world: World) -> dict:
    return {"action": "reject", "version": int(world.ids["review_version"])}


P = "/api/v1/projects/"
OPERATIONS: dict[tuple[str, str], Op] = {
    # accounts: sign-up and log-in are the only doors open to everyone
    ("POST", "/api/v1/auth/register/"): Op(
        (201, 201, 201, 201, 201),
        lambda w: {"username": "newcomer", "password": "a-long-new-secret-9"},
    ),
    ("POST", "/api/v1/auth/token/"): Op(
        (200, 200, 200, 200, 200), lambda w: {"username": "req_a", "password": PASSWORD}
    ),
    ("GET", "/api/v1/me/"): Op((401, 200, 200, 200, 200)),
    # requesters' projects: B gets the 404 of a missing project; staff see every project
    ("GET", P): Op((401, 403, 200, 200, 200)),
    ("POST", P): Op(
        (401, 403, 201, 201, 201),
        lambda w: {"name": "Another", "kind": "classification", "labels": ["a", "b"]},
    ),
    ("GET", P + "{id}/"): Op((401, 403, 200, 404, 200)),
    ("PATCH", P + "{id}/"): Op((401, 403, 200, 404, 200), lambda w: {"name": "Renamed"}),
    ("POST", P + "{id}/gold/"): Op(
        (401, 403, 200, 404, 200),
        lambda w: {"gold": [{"task": w.ids["fresh_task"], "answer": {"label": "taxi"}}]},
    ),
    ("GET", P + "{id}/progress/"): Op((401, 403, 200, 404, 200)),
    ("GET", P + "{id}/results/"): Op((401, 403, 200, 404, 200)),
    ("POST", P + "{id}/tasks/"): Op((401, 403, 201, 404, 201), _upload, "multipart"),
    # exports and webhooks: a webhook (its secret, its deliveries) and an export's bytes are the
    # owner's alone; staff see that an export exists
    ("GET", P + "{project_id}/exports/"): Op((401, 403, 200, 404, 200)),
    ("POST", P + "{project_id}/exports/"): Op(
        (401, 403, 202, 404, 202), lambda w: {"format": "jsonl"}
    ),
    ("GET", P + "{project_id}/webhook/"): Op((401, 403, 404, 404, 404)),  # none set yet
    ("PUT", P + "{project_id}/webhook/"): Op(
        (401, 403, 400, 404, 404), lambda w: {"url": "http://127.0.0.1/hook"}
    ),
    ("DELETE", P + "{project_id}/webhook/"): Op((401, 403, 204, 404, 404)),
    ("GET", P + "{project_id}/webhook/deliveries/"): Op((401, 403, 200, 404, 404)),
    ("GET", "/api/v1/exports/{export_id}/"): Op((401, 403, 200, 404, 200)),
    ("GET", "/api/v1/exports/{export_id}/download/"): Op((401, 403, 200, 404, 404)),
    # a model's predictions: the project owner's (and staff's) to post and read
    ("GET", P + "{project_id}/predictions/"): Op((401, 403, 200, 404, 200)),
    ("POST", P + "{project_id}/predictions/"): Op(
        (401, 403, 201, 404, 201),
        lambda w: {
            "model": "m@1",
            "predictions": [
                {"task": w.ids["fresh_task"], "payload": {"label": "taxi", "score": 1}}
            ],
        },
    ),
    # an uploaded ONNX model: the owner's (and staff's) to upload and list; without the onnx
    # extra the upload is refused (onnx_unavailable) after the same 404 for requester B
    ("GET", P + "{project_id}/models/"): Op((401, 403, 200, 404, 200)),
    ("POST", P + "{project_id}/models/"): Op(
        (401, 403, UPLOAD_STATUS, 404, UPLOAD_STATUS), lambda w: upload_form(), "multipart"
    ),
    # workers: only worker accounts; an image only to its owner, staff, or a live lease on it
    ("POST", "/api/v1/work/next/"): Op((401, 200, 403, 403, 403), lambda w: {}),
    ("POST", "/api/v1/work/assignments/{assignment_id}/submit/"): Op(
        (401, 201, 403, 403, 403), lambda w: {"payload": {"label": "taxi"}, "duration_ms": 4000}
    ),
    ("POST", "/api/v1/work/assignments/{assignment_id}/skip/"): Op((401, 200, 403, 403, 403)),
    ("POST", "/api/v1/work/assignments/{assignment_id}/release/"): Op((401, 200, 403, 403, 403)),
    ("GET", "/api/v1/work/feedback/"): Op((401, 200, 403, 403, 403)),
    ("GET", "/api/v1/tasks/{task_id}/image/"): Op(
        (401, 200, 200, 404, 200), params={"task_id": "open_task"}
    ),
    # staff: everyone else is refused before any object is looked up
    ("GET", "/api/v1/staff/projects/{project_id}/dashboard/"): Op((401, 403, 403, 403, 200)),
    ("GET", "/api/v1/staff/projects/{project_id}/review/"): Op((401, 403, 403, 403, 200)),
    ("GET", "/api/v1/staff/projects/{project_id}/workers/"): Op((401, 403, 403, 403, 200)),
    ("POST", "/api/v1/staff/projects/{project_id}/workers/{worker_id}/block/"): Op(
        (401, 403, 403, 403, 201), lambda w: {"reason": "test"}
    ),
    ("GET", "/api/v1/staff/tasks/{task_id}/review/"): Op((401, 403, 403, 403, 200)),
    ("POST", "/api/v1/staff/tasks/{task_id}/review/"): Op((401, 403, 403, 403, 201), _review),
    # (nothing of the review task failed to score: staff get 200, nothing re-queued)
    ("POST", "/api/v1/staff/tasks/{task_id}/scoring/retry/"): Op(
        (401, 403, 403, 403, 200), lambda w: {}
    ),
    ("GET", "/api/v1/staff/health/"): Op((401, 403, 403, 403, 200)),
}
DEFAULT_PARAMS = {
    "id": "project",
    "project_id": "project",
    "task_id": "review_task",
    "assignment_id": "assignment",
    "export_id": "export",
    "worker_id": "worker_pk",
}


def _declared_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    verbs = {"get", "post", "put", "patch", "delete"}
    return {(m.upper(), path) for path, ops in schema["paths"].items() for m in ops if m in verbs}


@pytest.fixture
def world(
    requester, make_user, make_project, worker_clients, django_capture_on_commit_callbacks
) -> World:
    requester_a = requester
    project = make_project(
        owner=requester_a, images=1, redundancy_min=3, redundancy_max=3, acceptance_threshold=0.999
    )
    labels = [{"label": "car"}, {"label": "car"}, {"label": "taxi"}]
    review_task = answer(worker_clients, project, labels, django_capture_on_commit_callbacks)
    assert review_task.state == TaskState.REVIEW
    files = [IncomingFile(f"images[{i}]", f"x{i}.png", lambda i=i: png_bytes(seed=40 + i)) for i in range(3)]  # fmt: skip
    tasks_create_from_files(project=project, files=iter(files))
    accepted, *others = Task.objects.filter(project=project).exclude(pk=review_task.pk)
    Task.objects.filter(pk=accepted.pk).update(
        state=TaskState.ACCEPTED, accepted_label={"label": "car"}, confidence=0.95,
        decided_at=timezone.now(),
    )  # fmt: skip
    clients = {
        "anonymous": APIClient(),
        "worker": client_for(make_user(Role.WORKER, "walker")),
        "requester_a": client_for(requester_a),
        "requester_b": client_for(make_user(Role.REQUESTER, "req_b")),
        "staff": client_for(make_user(Role.REQUESTER, "admin", staff=True)),
    }
    with django_capture_on_commit_callbacks(execute=True):
        export = clients["requester_a"].post(
            f"{P}{project.pk}/exports/", {"format": "csv"}, format="json"
        )
    work = lease(clients["worker"], project)
    (fresh_task,) = [str(t.pk) for t in others if str(t.pk) != work["task"]]
    ids = {
        "project": str(project.pk),
        "review_task": str(review_task.pk),
        "review_version": str(review_task.consensus.version),
        "open_task": work["task"],
        "fresh_task": fresh_task,
        "assignment": work["assignment"],
        "export": export.json()["id"],
        "worker_pk": str(worker_clients[2].user.pk),
    }
    return World(clients, ids)


def _url(path: str, op: Op, world: World, missing: bool = False) -> str:
    names = {**DEFAULT_PARAMS, **op.params}
    values = {
        k: (NOWHERE if missing and k != "worker_id" else world.ids[v]) for k, v in names.items()
    }
    return path.format(**values)


def test_every_declared_operation_is_in_the_table():
    assert _declared_operations() == set(OPERATIONS)


def test_every_api_route_of_the_url_conf_is_in_the_schema():
    # a view left out of the schema would escape the table above
    api = next(p for p in get_resolver().url_patterns if "api/v1" in str(p.pattern))

    def names(patterns) -> set[str]:
        found = set()
        for pattern in patterns:
            is_include = isinstance(pattern, URLResolver)
            found |= names(pattern.url_patterns) if is_include else {pattern.name}
        return found

    placeholders = {k: "1" if k == "worker_id" else NOWHERE for k in DEFAULT_PARAMS}
    reached = {resolve(path.format(**placeholders)).url_name for _, path in OPERATIONS}
    assert names(api.url_patterns) == reached


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=lambda o: f"{o[0]} {o[1]}")
def test_each_role_gets_its_status_on_each_operation(world, operation, role):
    method, path = operation
    op = OPERATIONS[operation]
    client = world.clients[role]
    body = op.body(world) if op.body else None
    before = db_snapshot()
    response = getattr(client, method.lower())(_url(path, op, world), body, format=op.format)
    assert response.status_code == op.status_for(role), response.content[:300]
    if method == "GET":
        assert db_snapshot() == before  # reading never changes anything
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "field"}
    if response.status_code == 404 and "{" in path:
        # "not yours" reads exactly like "does not exist"
        missing = getattr(client, method.lower())(
            _url(path, op, world, missing=True),
            op.body(world) if op.body else None,
            format=op.format,
        )
        assert missing.status_code == 404
        assert missing.content == response.content


UNDECLARED = sorted(
    (method, path)
    for path in {p for _, p in OPERATIONS}
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    if (method, path) not in OPERATIONS
)


@pytest.mark.parametrize("role", ROLES)
def test_a_method_the_schema_does_not_declare_changes_nothing(world, media_files, role):
    client = world.clients[role]
    before = (db_snapshot(), media_files())
    for method, path in UNDECLARED:
        op = OPERATIONS.get(("GET", path)) or next(
            o for (_, p), o in OPERATIONS.items() if p == path
        )
        response = getattr(client, method.lower())(_url(path, op, world), {}, format="json")
        assert response.status_code in (401, 403, 404, 405), (method, path, response.status_code)
        assert set(response.json()["error"]) == {"code", "message", "field"}
    assert (db_snapshot(), media_files()) == before


# --- browser pages: anonymous callers are sent to sign in; other accounts get a page saying the
# workers' pages are for workers (403); the staff pages do not exist for anyone but staff (404).
PAGES: dict[str, tuple[int, int, int, int, int]] = {
    "/": (302, 200, 403, 403, 403),
    "/signup/": (200, 302, 302, 302, 302),
    "/label/": (302, 200, 403, 403, 403),
    "/leaderboard/": (302, 200, 403, 403, 403),
    "/history/": (302, 200, 403, 403, 403),
    "/projects/{project}/": (302, 200, 403, 403, 403),
    "/staff/": (302, 404, 404, 404, 200),
    "/staff/projects/{project}/": (302, 404, 404, 404, 200),
    "/staff/projects/{project}/live/": (302, 404, 404, 404, 200),
    "/staff/projects/{project}/review/": (302, 404, 404, 404, 200),
    "/staff/projects/{project}/workers/": (302, 404, 404, 404, 200),
    "/staff/review/{review_task}/": (302, 404, 404, 404, 200),
    "/favicon.ico": (301, 301, 301, 301, 301),
    # The installable app: public, as browsers fetch them without cookies; they name only static
    # files (the shell), never a task or an answer.
    "/sw.js": (200, 200, 200, 200, 200),
    "/manifest.webmanifest": (200, 200, 200, 200, 200),
}


def test_every_page_of_the_url_conf_is_in_the_page_table():
    frontend = next(
        p
        for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and p.app_name == "frontend"
    )
    ids = {"project": NOWHERE, "review_task": NOWHERE}
    reached = {resolve(path.format(**ids)).url_name for path in PAGES}
    served = {p.name for include in frontend.url_patterns for p in include.url_patterns}
    assert served == reached


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", sorted(PAGES))
def test_each_role_gets_its_status_on_each_page(world, client, page, role):
    if role != "anonymous":
        client.force_login(world.clients[role].user)
    before = db_snapshot()
    response = client.get(page.format(**world.ids))
    assert response.status_code == PAGES[page][ROLES.index(role)]
    assert db_snapshot() == before
    if response.status_code == 302 and role == "anonymous":
        assert response["Location"].startswith("/accounts/login/?next=")
    # every page, refusals included, is under an enforced policy that runs no inline script
    policy = dict(d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";"))
    assert "'self'" in policy["script-src"].split()
    assert "unsafe-inline" not in policy["script-src"]
    assert "unsafe-eval" not in policy["script-src"]
    assert "Content-Security-Policy-Report-Only" not in response
