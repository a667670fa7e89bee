"""``manifest.json``: what the snapshot is (project, options, platform), what it holds (counts
per label and split, skipped tasks) and a sha256 for every other file.

It carries no export id, version number or time, so that the same inputs give the same bytes;
those live on the Export row and in the webhook message. The file list is streamed from the
staging ledger, in the order the files were written.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from .options import ExportOptions
from .records import ProjectInfo, Tally

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
SPLIT_RULE = (
    "an image's split is set by the first 16 hex digits of its sha256, read as a fraction of "
    "2**64 and compared with the cumulative train/val/test ratios"
)


def platform_version() -> str:
    try:
        return metadata.version("sebenzai")
    except metadata.PackageNotFoundError:
        return "unknown"


def manifest_head(*, project: ProjectInfo, options: ExportOptions, tally: Tally) -> dict[str, Any]:
    return {
        "manifest_version": MANIFEST_VERSION,
        "platform": {"name": "sebenzai", "version": platform_version()},
        "project": {
            "id": project.id,
            "name": project.name,
            "kind": project.kind,
            "labels": list(project.labels),
        },
        "format": options.format,
        "snapshot": {
            **options.as_dict(),
            "gold_tasks": "never exported",
            "split_rule": SPLIT_RULE,
        },
        "counts": tally.as_dict(),
        "skipped_tasks": tally.skipped_tasks,
    }


def manifest_write(*, path: Path, head: dict[str, Any], ledger: Path) -> str:
    """Write the manifest at ``path``, listing every file in ``ledger``; return its sha256."""
    digest = hashlib.sha256()
    with open(path, "wb") as out, open(ledger, encoding="utf-8") as files:

        def emit(text: str) -> None:
            data = text.encode()
            out.write(data)
            digest.update(data)

        emit(json.dumps(head, indent=2)[:-2] + ',\n  "files": [')
        separator = "\n"
        for line in files:
            rel, sha256, size = line.rstrip("\n").split("\t")
            entry = json.dumps({"path": rel, "sha256": sha256, "size": int(size)})
            emit(f"{separator}    {entry}")
            separator = ",\n"
        emit("\n  ]\n}\n")
    return digest.hexdigest()
