"""Copying between accounts (docs/reliability.md C9): a project's answers fed to
``algorithms.copying``, and what it finds stored for the staff workers table.

Comparing every two workers reads every answer of the project (400,000 in the dashboard
benchmark: about a second and a half to read and compare), too slow for a page that must render
in well under a second. So the batch re-score computes it and stores the suspect pairs
(``CopyingSignal``), and the page reads that small table: its flags are as fresh as the last
batch run (hourly by default).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from annotations.models import Annotation, Project, ProjectKind

from .algorithms.copying import CopyingPair, class_codes, copying_pairs, shape_codes
from .models import CopyingSignal

SHAPE_FIELDS = {ProjectKind.BBOX: ("boxes", "bbox"), ProjectKind.POLYGON: ("polygons", "points")}
Columns = tuple[np.ndarray, np.ndarray, np.ndarray]


def copying_inputs(*, project: Project) -> Columns:
    """Every answer of the project as (task index, worker id, answer code). Blocked workers
    count too: blocking one of a copying pair leaves the other a suspect."""
    answers = Annotation.objects.filter(task__project=project).order_by()
    if project.kind not in SHAPE_FIELDS:
        # A class answer is its whole payload (label, or verdict with sorted categories).
        texts = answers.annotate(t=Cast("task_id", TextField()), a=Cast("payload", TextField()))
        tasks, workers, payloads = _columns(texts.values_list("t", "worker_id", "a"))
        return class_codes(tasks), workers, class_codes(payloads)
    tasks, workers, payloads = _columns(answers.values_list("task_id", "worker_id", "payload"))
    task_index = class_codes(tasks)
    shapes = [_canonical_shapes(p, *SHAPE_FIELDS[project.kind]) for p in payloads]
    signatures, coords = [s for s, _ in shapes], [c for _, c in shapes]
    return task_index, workers, shape_codes(task_index, signatures, coords)


def _columns(rows: QuerySet) -> tuple[list, np.ndarray, list]:
    tasks, workers, answers = [], [], []
    for task, worker, answer in rows.iterator(chunk_size=10_000):
        tasks.append(task)
        workers.append(worker)
        answers.append(answer)
    return tasks, np.asarray(workers, dtype=np.int64), answers


def _canonical_shapes(payload: dict, key: str, coords_key: str) -> tuple[tuple, np.ndarray]:
    """Shapes in a fixed order (label, then coordinates), so that one answer copied with its
    shapes listed in another order still matches: (labels with point counts, coordinates)."""
    shapes = sorted(
        (str(s.get("label")), np.asarray(s.get(coords_key, []), dtype=float).ravel().tolist())
        for s in payload.get(key, [])
    )
    signature = tuple((label, len(xy)) for label, xy in shapes)
    return signature, np.array([v for _, xy in shapes for v in xy], dtype=float)


def copying_refresh(*, project: Project) -> int:
    """Find the project's copying pairs and store them; returns how many there are.
    Idempotent: rows are written only where the evidence moved."""
    task, worker, code = copying_inputs(project=project)
    return _signals_write(project, copying_pairs(task, worker, code))


def _signals_write(project: Project, pairs: list[CopyingPair]) -> int:
    found = {(p.worker_a, p.worker_b): p for p in pairs}
    existing = {
        (s.worker_id, s.partner_id): s for s in CopyingSignal.objects.filter(project=project)
    }
    gone = [s.pk for key, s in existing.items() if key not in found]
    CopyingSignal.objects.filter(pk__in=gone).delete()
    created, changed = [], []
    for (a, b), pair in found.items():
        evidence = {"shared": pair.shared, "unusual": pair.unusual, "twins": pair.twins}
        signal = existing.get((a, b))
        if signal is None:
            created.append(CopyingSignal(project=project, worker_id=a, partner_id=b, **evidence))
        elif any(getattr(signal, k) != v for k, v in evidence.items()):
            for k, v in evidence.items():
                setattr(signal, k, v)
            changed.append(signal)
    CopyingSignal.objects.bulk_create(created, ignore_conflicts=True)
    CopyingSignal.objects.bulk_update(changed, ["shared", "unusual", "twins"])
    return len(found)


def copying_partners(*, project: Project) -> dict[int, list[dict]]:
    """Each suspect worker's partners with the evidence, ``{worker: [{"partner", "shared",
    "unusual", "twins"}]}``, from the stored pairs (one query)."""
    partners: dict[int, list[dict]] = defaultdict(list)
    rows = CopyingSignal.objects.filter(project=project).order_by("worker_id", "partner_id")
    for a, b, shared, unusual, twins in rows.values_list(
        "worker_id", "partner_id", "shared", "unusual", "twins"
    ):
        evidence = {"shared": shared, "unusual": unusual, "twins": twins}
        partners[a].append({"partner": b, **evidence})
        partners[b].append({"partner": a, **evidence})
    return dict(partners)
