"""The retraining example's modules (loaded from examples/retrain/ by path, as a pipeline copies
them), a running receiver, and projects whose tasks are already accepted."""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from annotations.models import Project, Task, TaskState

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "retrain"


def example_module(name: str) -> ModuleType:
    """examples/retrain/<name>.py as module ``retrain_<name>`` (the folder is not a package)."""
    full = f"retrain_{name}"
    if full not in sys.modules:
        spec = importlib.util.spec_from_file_location(full, EXAMPLE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module  # dataclasses look their module up here
        spec.loader.exec_module(module)
    return sys.modules[full]


@pytest.fixture
def job() -> ModuleType:
    return example_module("job")


@pytest.fixture
def receiver() -> ModuleType:
    return example_module("receiver")


@pytest.fixture
def webhook_server(receiver) -> Iterator:
    """The example's receiver on a free loopback port; ``.messages`` holds what it handed on."""
    messages: list[dict] = []
    server = receiver.WebhookServer(("127.0.0.1", 0), secret="", on_message=messages.append)
    server.messages = messages
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/retrain"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def _export_root(tmp_path, settings):
    settings.EXPORT_ROOT = str(tmp_path / "exports")
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on loopback


def accepted_label(kind: str, index: int) -> dict:
    """A varied accepted label on a 64 x 48 image."""
    if kind == "classification":
        return {"label": ["car", "taxi", "truck"][index % 3]}
    boxes = [
        {"label": ["car", "taxi"][j], "bbox": [4 + 24 * j, 6, 18 + index % 5, 20]}
        for j in range(1 + index % 2)
    ]
    return {"boxes": boxes}


@pytest.fixture
def accepted_project(make_project) -> Callable[..., Project]:
    def make(kind: str, *, images: int) -> Project:
        project = make_project(kind, images=images)
        tasks = list(project.tasks.order_by("created_at", "sha256"))
        for index, task in enumerate(tasks):
            task.state = TaskState.ACCEPTED
            task.accepted_label = accepted_label(kind, index)
            task.confidence, task.answers_count = 0.95, 3
        Task.objects.bulk_update(tasks, ["state", "accepted_label", "confidence", "answers_count"])
        return project

    return make
