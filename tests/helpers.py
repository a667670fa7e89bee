"""Helpers the tests call (fixtures live in conftest.py): generated images and zip archives, API
clients, the worker's lease-and-submit round trip, a snapshot of rows a bad request must not
change, and calls released together in threads."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable

from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Project, Task

PASSWORD = "correct-horse-battery-42"
NOWHERE = "00000000-0000-4000-8000-000000000000"  # an id no row has


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


def zip_bytes(entries: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip archive of ``entries`` (name: content), names kept as given, unsafe ones too."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, content in entries.items():
            zf.writestr(zipfile.ZipInfo(name), content, compress_type=compression)
    return out.getvalue()


def client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.user = user
    return client


def lease(
    client: APIClient, project: Project | None = None, *, holding: list[str] | None = None
) -> dict | None:
    """Ask for the next task through the API (one to prefetch beyond the assignments the page is
    ``holding``, if given); None on 204."""
    body: dict = {"project": str(project.pk)} if project is not None else {}
    if holding is not None:
        body["holding"] = holding
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
