"""Seeds worker_reach.py's database: a requester, one active project of each kind with ``tasks``
photo-like 1280×720 JPEGs (3 answers per task, no gold, so every lease is an ordinary task) and
``workers`` worker accounts with the password ``password``. Prints JSON: the projects' ids by
kind and the workers' names and ids.

    python -m benchmarks.children.reach_seed '{"tasks": 40, "workers": 2, "password": "..."}'

Run with the server's environment (DATABASE_URL, MEDIA_ROOT, SECRET_KEY).
"""

from __future__ import annotations

import io
import json
import random
import secrets
import sys

LABELS = {
    "classification": ["car", "taxi", "truck", "bus"],
    "bbox": ["car", "taxi", "truck", "bus"],
    "polygon": ["pothole", "road_sign"],
    "moderation": ["violence", "nudity", "weapons"],
}
SIZE = (1280, 720)


def _photo(seed: int) -> bytes:
    """A street-like picture with texture at two scales, so that it compresses like a photo
    (~130 kB as JPEG; ~30 kB as the page's 695 px WebP). Coarse texture alone would vanish
    when the server scales the image down for the phone, and fine noise alone too."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize(SIZE).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 420, SIZE[0], 720], fill=(70 + rng.randint(-15, 15),) * 3)
    for _ in range(rng.randint(2, 5)):
        x, y = rng.randint(0, 1100), rng.randint(360, 600)
        colour = tuple(rng.randint(20, 240) for _ in range(3))
        draw.rectangle([x, y, x + rng.randint(120, 300), y + rng.randint(70, 150)], fill=colour)
    coarse = _noise((SIZE[0] // 4, SIZE[1] // 4), 40).resize(SIZE, Image.Resampling.BICUBIC)
    image = Image.blend(Image.blend(image, coarse, 0.3), _noise(SIZE, 20), 0.15)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82)
    return out.getvalue()


def _noise(size: tuple[int, int], sigma: float):
    from PIL import Image

    return Image.merge("RGB", [Image.effect_noise(size, sigma) for _ in range(3)])


def _project(requester, kind: str, tasks: int, offset: int):
    from annotations.models import ProjectStatus
    from annotations.services.intake import IncomingFile, tasks_create_from_files
    from annotations.services.projects import project_create

    data = {
        "name": f"Reach {kind}",
        "kind": kind,
        "labels": LABELS[kind],
        "instructions": f"Label the {kind} task.",
        "redundancy_min": 3,
        "redundancy_max": 3,
        "acceptance_threshold": 0.6,
        "gold_ratio": 0.0,
    }
    project = project_create(owner=requester, data=data)
    files = (
        IncomingFile(f"images[{i}]", f"{kind}-{i:04d}.jpg", lambda i=i: _photo(offset + i))
        for i in range(tasks)
    )
    report = tasks_create_from_files(project=project, files=files)
    if len(report.created) != tasks:
        raise SystemExit(
            f"seed: {len(report.created)} of {tasks} {kind} tasks: {report.errors[:3]}"
        )
    project.status = ProjectStatus.ACTIVE
    project.save(update_fields=["status"])
    return project


def main(spec: dict) -> None:
    import django

    django.setup()
    from accounts.models import Role
    from accounts.services import user_create

    requester = user_create(
        username="reach-requester", password=secrets.token_urlsafe(18), role=Role.REQUESTER
    )
    projects = {
        kind: str(_project(requester, kind, spec["tasks"], offset=i * 10_000).pk)
        for i, kind in enumerate(LABELS)
    }
    workers = {}
    for i in range(spec["workers"]):
        name = f"reach-worker-{i:02d}"
        workers[name] = user_create(username=name, password=spec["password"], role=Role.WORKER).pk
    print(json.dumps({"projects": projects, "workers": workers}))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
