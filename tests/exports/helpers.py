"""Helpers of the export tests: the accepted label of each task, reading what an export wrote, a
local HTTP server (a webhook receiver, or a canary that must never be reached), many accepted
tasks made fast, and the API's error envelope."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from annotations.models import Project, Task, TaskState

LABELS = {"classification": ["car", "taxi", "truck"], "moderation": ["violence", "nudity"]}


def label_for(kind: str, index: int) -> dict:
    """A varied accepted label: some images with several objects, one with none, fused scores."""
    names = LABELS.get(kind, ["car", "taxi"])
    if kind == "classification":
        return {"label": names[index % 3]}
    if kind == "moderation":
        if index % 2:
            return {"verdict": "unsafe", "categories": names[: 1 + index % 2]}
        return {"verdict": "safe", "categories": []}
    count = index % 3  # 0, 1 or 2 objects
    if kind == "bbox":
        boxes = [
            {"label": names[j % 2], "bbox": [1.5 + 10 * j, 2 + j, 12.25, 8 + index]}
            for j in range(count)
        ]
        if boxes and index % 2:
            boxes[0]["score"] = 0.875  # fused objects may carry a score
        return {"boxes": boxes}
    polygons = [
        {"label": names[j % 2], "points": [[2 + 20 * j, 3], [18.5 + 20 * j, 4], [10 + 20 * j, 30]]}
        for j in range(count)
    ]
    return {"polygons": polygons}


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (or in a zip) by relative path."""
    if root.is_file():
        with zipfile.ZipFile(root) as archive:
            return {n: archive.read(n) for n in archive.namelist() if not n.endswith("/")}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def manifest_of(root: Path) -> dict:
    return json.loads(tree_bytes(root)["manifest.json"])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- a local HTTP server: a webhook receiver, or a canary that must never be reached ----------


class Receiver:
    """Records every request; answers with ``status`` (and ``location`` for a redirect)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, status: int = 204) -> None:
        import http.server
        import threading

        self.requests: list[dict] = []
        self.status, self.location, self.body = status, "", b""
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.host, self.port = self.server.server_address[:2]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- many tasks, fast: rows made directly, image files linked to one stored PNG ---------------


def bulk_accepted_tasks(project: Project, count: int, *, boxes: int = 2, seed: int = 0) -> None:
    """``count`` accepted bbox tasks with canonical image files (all hard links of one PNG)."""
    import os

    from django.conf import settings

    from tests.helpers import png_bytes

    media = Path(settings.MEDIA_ROOT)
    original = media / "bulk-original.png"
    if not original.exists():
        original.parent.mkdir(parents=True, exist_ok=True)
        original.write_bytes(png_bytes(seed=4242))
    rows = []
    for i in range(count):
        digest = hashlib.sha256(f"{seed}-{i}".encode()).hexdigest()
        path = media / "images" / digest[:2] / f"{digest}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        os.link(original, path)
        label = {
            "boxes": [
                {"label": "car" if j % 2 else "taxi", "bbox": [1 + j, 2 + j, 10.5, 7.25]}
                for j in range(boxes)
            ]
        }
        rows.append(
            Task(
                project=project,
                image=f"images/{digest[:2]}/{digest}.png",
                sha256=digest,
                image_format="PNG",
                width=64,
                height=48,
                target_redundancy=3,
                state=TaskState.ACCEPTED,
                accepted_label=label,
                confidence=0.9,
                answers_count=3,
            )
        )
    Task.objects.bulk_create(rows, batch_size=500)


# --- API refusals ----------------------------------------------------------------------------


def assert_refused(response, status: int, field: str | None, code: str | None = None) -> dict:
    """A JSON error envelope with this status and field (and code); returns ``error``."""
    text = response.content.decode()
    assert response.status_code == status, text
    assert response["Content-Type"].startswith("application/json"), text[:200]
    error = response.json()["error"]
    assert error["message"], error
    assert error["field"] == field, error
    if code is not None:
        assert error["code"] == code, error
    return error
