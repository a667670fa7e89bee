"""Seeds export.py's database: a requester and, for each ``[name, kind, tasks]`` of the spec's
``projects``, an active project of ``tasks`` accepted tasks over the first ``tasks`` images
(``bbox``: ``boxes`` random boxes each; ``classification``: one label). Seeded: the same spec
gives the same rows.

    python -m benchmarks.children.export_seed < spec.json
    spec: {"labels": [...], "width": 1280, "height": 720, "boxes": 5,
           "projects": [[name, kind, tasks], ...], "shas": [sha256 of each image, ...]}
"""

from __future__ import annotations

import json
import random
import sys

import django

BATCH = 5000


def _boxes(rng: random.Random, spec: dict, count: int) -> list[dict]:
    out = []
    for _ in range(count):
        w, h = round(rng.uniform(20, 300), 2), round(rng.uniform(20, 200), 2)
        x = round(rng.uniform(0, spec["width"] - w), 2)
        y = round(rng.uniform(0, spec["height"] - h), 2)
        out.append({"label": rng.choice(spec["labels"]), "bbox": [x, y, w, h]})
    return out


def main(spec: dict) -> None:
    django.setup()
    from accounts.models import Role
    from accounts.services import user_create
    from annotations.models import Project, Task

    rng = random.Random(7)
    owner = user_create(username="bench-owner", password="bench-" + "p" * 20, role=Role.REQUESTER)
    labels = [{"name": n, "color": "#123456"} for n in spec["labels"]]
    for name, kind, tasks in spec["projects"]:
        project = Project.objects.create(
            owner=owner, name=name, kind=kind, labels=labels, status="active"
        )
        batch = []
        for sha in spec["shas"][:tasks]:
            if kind == "bbox":
                label = {"boxes": _boxes(rng, spec, spec["boxes"])}
            else:
                label = {"label": rng.choice(spec["labels"])}
            batch.append(
                Task(
                    project=project,
                    image=f"images/{sha[:2]}/{sha}.jpg",
                    sha256=sha,
                    image_format="JPEG",
                    width=spec["width"],
                    height=spec["height"],
                    state="accepted",
                    accepted_label=label,
                    confidence=round(rng.uniform(0.8, 1), 4),
                    answers_count=3,
                    target_redundancy=3,
                )
            )
            if len(batch) == BATCH:
                Task.objects.bulk_create(batch)
                batch = []
        Task.objects.bulk_create(batch)
        print(name, tasks, flush=True)


if __name__ == "__main__":
    main(json.load(sys.stdin))
