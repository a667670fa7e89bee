"""Shared fixtures: accounts with API clients, projects, and generated images."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_create
from annotations.models import Project, ProjectStatus
from annotations.services.intake import IncomingFile, tasks_create_from_files
from annotations.services.projects import project_create
from sebenzai.object_store_settings import object_store_settings
from tests.helpers import PASSWORD, client_for, png_bytes
from tests.processes import Bucket, S3Server


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


@pytest.fixture(scope="session")
def s3_server():
    """An S3-compatible server process on loopback for the whole run (started on first use)."""
    server = S3Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def object_store(s3_server, settings, monkeypatch) -> Bucket:
    """The default storage on a fresh bucket of the S3 server, configured as S3_BUCKET and the
    other variables would configure it (they are set in this process's environment too)."""
    bucket = s3_server.bucket_create(f"test-{uuid.uuid4().hex[:12]}")
    for name, value in bucket.env.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": object_store_settings()}
    return bucket


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
    return client_for(requester)


@pytest.fixture
def other_requester_client(make_user) -> APIClient:
    return client_for(make_user(Role.REQUESTER, "req_b"))


@pytest.fixture
def make_client() -> Callable:
    return client_for


@pytest.fixture
def worker_clients(make_user) -> list[APIClient]:
    return [client_for(make_user(Role.WORKER, f"w{i}")) for i in range(6)]


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
