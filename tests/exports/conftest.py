"""Projects with accepted tasks, made directly on Task rows (consensus for shapes is written
elsewhere), and local HTTP servers; the helpers the tests call are in helpers.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from annotations.models import Project, Task, TaskState
from annotations.services.intake import IncomingFile, tasks_create_from_files
from tests.exports.helpers import Receiver, label_for
from tests.helpers import png_bytes


@pytest.fixture(autouse=True)
def _export_root(tmp_path, settings):
    settings.EXPORT_ROOT = str(tmp_path / "exports")
    settings.WEBHOOK_ALLOW_PRIVATE = False


@pytest.fixture
def accepted_project(make_project) -> Callable[..., Project]:
    def make(
        kind: str = "bbox",
        *,
        images: int = 6,
        gold: int = 0,
        confidence: float = 0.95,
        formats: tuple[str, ...] = (),
        **fields,
    ) -> Project:
        """``gold`` gold tasks and ``images`` accepted ones: PNGs, the last of them one image in
        each of ``formats`` ("JPEG", "WEBP")."""
        project = make_project(kind, images=images + gold - len(formats), **fields)
        files = (
            IncomingFile(
                f"images[{i}]", f"x{i}.{f.lower()}", lambda i=i, f=f: png_bytes(seed=900 + i, fmt=f)
            )
            for i, f in enumerate(formats)
        )
        tasks_create_from_files(project=project, files=files)
        tasks = list(project.tasks.order_by("created_at", "sha256"))
        for index, task in enumerate(tasks):
            if index < gold:
                task.is_gold, task.gold_answer = True, label_for(kind, index)
                continue
            task.state = TaskState.ACCEPTED
            task.accepted_label = label_for(kind, index)
            task.confidence = confidence
            task.answers_count = 3
        Task.objects.bulk_update(
            tasks,
            ["is_gold", "gold_answer", "state", "accepted_label", "confidence", "answers_count"],
        )
        return project

    return make


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def canary():
    """Any request it receives is a failure of the address policy."""
    server = Receiver(status=200)
    yield server
    server.close()
