"""What changed from one version of an export to the next, read from the two zips' tasks.csv
(one line per task: its image, split and a hash of its accepted label).

The diff lives on the Export row, not in the zip: the zip is a function of the project's labels
and the options alone, so an unchanged project re-exports to the same bytes (and the same sha256,
which is how an identical version is told; see services.export_build).
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import IO, Any

from .dataset import INDEX

LISTED = 100  # task ids named per kind of change; every change is counted


def tasks_index_read(*, archive: Path | IO[bytes]) -> dict[str, tuple[str, str | None]]:
    """task id -> (split, label hash; None in a zip made before tasks.csv carried it)."""
    with zipfile.ZipFile(archive) as zipped, zipped.open(INDEX) as raw:
        rows = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        return {row["task"]: (row["split"], row.get("label_hash")) for row in rows}


def versions_diff(
    *, previous: Path | IO[bytes], current: Path | IO[bytes], previous_version: int
) -> dict[str, Any]:
    """Tasks added, removed, relabelled and moved to another split since ``previous``; each
    counted, the first LISTED ids named. ``label_changed`` is None when the previous zip did
    not record labels."""
    try:
        old = tasks_index_read(archive=previous)
    except (OSError, KeyError, zipfile.BadZipFile):
        return {"previous_version": previous_version, "unavailable": True}
    new = tasks_index_read(archive=current)
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    both = sorted(new.keys() & old.keys())
    known = all(old[task][1] is not None for task in both)
    relabelled = [task for task in both if old[task][1] != new[task][1]] if known else None
    moved = [task for task in both if old[task][0] != new[task][0]]
    return {
        "previous_version": previous_version,
        "added": _listed(added),
        "removed": _listed(removed),
        "label_changed": None if relabelled is None else _listed(relabelled),
        "split_changed": _listed(moved),
    }


def _listed(tasks: list[str]) -> dict[str, Any]:
    return {"tasks": len(tasks), "listed": tasks[:LISTED]}
