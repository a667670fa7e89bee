"""Seeds api_throughput.py's template database: a requester, one active classification project
of ``tasks`` tiny distinct PNGs (labels ``labels``, 3 to 5 answers per task, no gold), ``accounts``
crowd workers and one solo worker, each with an API token. Writes the project's id and the
tokens as JSON to ``out``.

    python -m benchmarks.children.api_seed '{"out": path, "tasks": 2000, "accounts": 24,
                                            "labels": [...], "app_dir": checkout}'

``app_dir`` is the checkout under test (``--app-dir``): its apps are imported, not this one's.
"""

from __future__ import annotations

import io
import json
import secrets
import sys
from pathlib import Path


def _png(i: int) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (32, 32), (i % 256, (i // 256) % 256, 97))
    image.putpixel((i % 32, (i // 32) % 32), (255 - i % 256, 7, (i * 7) % 256))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _account(name: str, role: str):
    from rest_framework.authtoken.models import Token

    from accounts.services import user_create

    user = user_create(username=name, password=secrets.token_urlsafe(18), role=role)
    return user, Token.objects.create(user=user).key


def _project(requester, tasks: int, labels: list[str]):
    from annotations.models import ProjectStatus
    from annotations.services.intake import IncomingFile, tasks_create_from_files
    from annotations.services.projects import project_create

    project = project_create(
        owner=requester,
        data={
            "name": "Benchmark classification",
            "kind": "classification",
            "labels": labels,
            "instructions": "Which vehicle is in the picture?",
            "redundancy_min": 3,
            "redundancy_max": 5,
            "acceptance_threshold": 0.9,
            "gold_ratio": 0.0,
        },
    )
    files = (
        IncomingFile(f"images[{i}]", f"bench-{i:05d}.png", lambda i=i: _png(i))
        for i in range(tasks)
    )
    report = tasks_create_from_files(project=project, files=files)
    if len(report.created) != tasks:
        raise SystemExit(
            f"seed: {len(report.created)} of {tasks} tasks created: {report.errors[:3]}"
        )
    project.status = ProjectStatus.ACTIVE
    project.save(update_fields=["status"])
    return project


def main(spec: dict) -> None:
    sys.path.insert(0, spec["app_dir"])  # the app under test, ahead of this checkout
    import django

    django.setup()
    from accounts.models import Role

    requester, requester_token = _account("bench-requester", Role.REQUESTER)
    project = _project(requester, spec["tasks"], spec["labels"])
    crowd = [_account(f"bench-crowd-{i:03d}", Role.WORKER)[1] for i in range(spec["accounts"])]
    solo = _account("bench-solo", Role.WORKER)[1]
    seed = {
        "project": str(project.pk),
        "requester": requester_token,
        "crowd": crowd,
        "solo": solo,
        "tasks": spec["tasks"],
    }
    Path(spec["out"]).write_text(json.dumps(seed))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
