"""Shared fixtures: accounts with API clients, projects, and generated images."""

from __future__ import annotations

import io
import random
import shutil
from collections.abc import Callable

import pytest
from django.conf import settings
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Project, ProjectStatus, Task
from annotations.services.intake import IncomingFile, tasks_create_from_files
from annotations.services.projects import project_create
from workers.models import Role
from workers.services import user_create

PASSWORD = "correct-horse-battery-42"


def png_bytes(width: int = 64, height: int = 48, seed: int = 0, fmt: str = "PNG") -> bytes:
    """A small image whose pixels depend on ``seed``, so each seed gives a distinct sha256."""
    rng = random.Random(seed)
    image = Image.new(
        "RGB", (width, height), (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    )
    image.putpixel((0, 0), (seed % 256, (seed // 256) % 256, 7))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def png_files(name: str, seeds) -> list[io.BytesIO]:
    """PNGs as the test client uploads them (bytes with a name): ``name`` formatted with each
    seed, e.g. ``"q{}.png"``."""
    files = []
    for seed in seeds:
        image = io.BytesIO(png_bytes(seed=seed))
        image.name = name.format(seed)
        files.append(image)
    return files


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


@pytest.fixture(autouse=True)
def _services_taken_as_up():
    """Each test starts with the process's circuit breakers closed: one test finding the broker
    (or the cache's Redis) down must not make the next skip publishing its scoring jobs."""
    from sebenzai.common import cache

    cache._breakers.clear()
    yield
    cache._breakers.clear()


def _client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.user = user
    return client


@pytest.fixture
def make_user(db) -> Callable:
    counter = iter(range(10_000))

    def make(role: str = Role.WORKER, name: str | None = None, staff: bool = False):
        user = user_create(username=name or f"{role}{next(counter)}", password=PASSWORD, role=role)
        if staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        return user

    return make


@pytest.fixture
def requester(make_user):
    return make_user(Role.REQUESTER, "req_a")


@pytest.fixture
def requester_client(requester) -> APIClient:
    return _client_for(requester)


@pytest.fixture
def other_requester_client(make_user) -> APIClient:
    return _client_for(make_user(Role.REQUESTER, "req_b"))


@pytest.fixture
def make_client() -> Callable:
    return _client_for


@pytest.fixture
def worker_clients(make_user) -> list[APIClient]:
    return [_client_for(make_user(Role.WORKER, f"w{i}")) for i in range(6)]


@pytest.fixture
def worker_client(worker_clients) -> APIClient:
    return worker_clients[0]


@pytest.fixture
def make_project(requester) -> Callable:
    def make(
        kind: str = "classification", *, images: int = 3, active: bool = True, owner=None, **fields
    ) -> Project:
        labels = {
            "classification": ["car", "taxi", "truck"],
            "moderation": ["violence", "nudity"],
        }.get(kind, ["car", "taxi"])
        data = {
            "name": f"{kind} project",
            "kind": kind,
            "labels": labels,
            "redundancy_min": 3,
            "redundancy_max": 5,
            "acceptance_threshold": 0.7,
            "gold_ratio": 0.0,
            **fields,
        }
        project = project_create(owner=owner or requester, data=data)
        files = (
            IncomingFile(f"images[{i}]", f"img{i}.png", lambda i=i: png_bytes(seed=i))
            for i in range(images)
        )
        tasks_create_from_files(project=project, files=files)
        if active:
            project.status = ProjectStatus.ACTIVE
            project.save(update_fields=["status"])
        return project

    return make


@pytest.fixture
def project(make_project) -> Project:
    return make_project()


def lease(client: APIClient, project: Project | None = None) -> dict | None:
    """Ask for the next task through the API; None on 204."""
    body = {"project": str(project.pk)} if project is not None else {}
    response = client.post("/api/v1/work/next/", body, format="json")
    assert response.status_code in (200, 204), response.content
    return response.json() if response.status_code == 200 else None


def submit(client: APIClient, assignment: str, payload: dict, duration_ms: int = 4000):
    return client.post(
        f"/api/v1/work/assignments/{assignment}/submit/",
        {"payload": payload, "duration_ms": duration_ms},
        format="json",
    )


def db_snapshot() -> dict:
    """Row counts of everything a bad request must leave alone."""
    from annotations.models import Annotation, Assignment
    from consensus.models import ConsensusResult, WorkerSkill
    from workers.models import PointsEntry

    models = [Project, Task, Assignment, Annotation, ConsensusResult, WorkerSkill, PointsEntry]
    snapshot = {m.__name__: m.objects.count() for m in models}
    snapshot["tasks_state"] = sorted(
        Task.objects.values_list("state", "slots_taken", "answers_count", "target_redundancy")
    )
    snapshot["projects"] = sorted(
        Project.objects.values_list("name", "status", "redundancy_min", "labels"), key=str
    )
    return snapshot


@pytest.fixture
def media_files() -> Callable[[], list[str]]:
    from pathlib import Path

    def listing() -> list[str]:
        root = Path(settings.MEDIA_ROOT)
        return (
            sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
            if root.exists()
            else []
        )

    return listing


def at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls in threads released together by a barrier; return each one's result or
    the exception it raised, in order. Each thread closes its own database connection."""
    import threading

    from django.db import connection

    barrier, outcomes = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - handed back to the test to assert on
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
