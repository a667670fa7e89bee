"""``manifest.json``: what the snapshot is (project, options, platform), what it holds (the class
index, how images were placed, counts per label and split, groups per split, the health report,
skipped tasks and the tasks left out because they are not decided yet) and a sha256 for every
other file.

It carries no export id, version number or time, so that the same inputs give the same bytes;
those live on the Export row and in the webhook message. The file list is streamed from the
staging ledger, in the order the files were written.
"""

from __future__ import annotations

import json
from importlib import metadata
from json.encoder import encode_basestring_ascii as quoted
from pathlib import Path
from typing import Any, Protocol

from .health import health_report
from .options import ExportOptions
from .records import ProjectInfo, Tally, class_names

MANIFEST = "manifest.json"
LEDGER_BLOCK = 1 << 18  # characters of the ledger read at a time
MANIFEST_VERSION = 1
SPLIT_RULE = (
    "an image's split is set by the first 16 hex digits of the sha256 of its group key "
    "(group_by: 'sequence:<sequence>', 'camera:<camera>' or 'video:<video sha256>'), or of its "
    "own sha256 when it has no group, read as a fraction of 2**64 and compared with the "
    "cumulative train/val/test ratios"
)


class TextOut(Protocol):
    def write(self, text: str, /) -> object: ...


def platform_version() -> str:
    try:
        return metadata.version("sebenzai")
    except metadata.PackageNotFoundError:
        return "unknown"


def manifest_head(
    *,
    project: ProjectInfo,
    options: ExportOptions,
    tally: Tally,
    left_out: dict[str, Any],
    described: dict[str, Any],
) -> dict[str, Any]:
    """The manifest less its file list. ``described`` is what the format says of itself (how
    its images were placed, its class folders); ``left_out`` is from left_out_count."""
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
        # One index for every format and split: YOLO's class numbers; COCO's category ids are
        # these plus one; a class without images in a split keeps its number.
        "class_index": {name: index for index, name in enumerate(class_names(project))},
        **described,
        "snapshot": {
            **options.as_dict(),
            "gold_tasks": "never exported",
            "split_rule": SPLIT_RULE,
        },
        "counts": {**tally.as_dict(), "left_out": left_out},
        "groups": tally.groups.per_split(),
        "health": health_report(
            labels=tally.labels, splits=options.active_splits, groups=tally.groups
        ),
        "skipped_tasks": tally.skipped_tasks,
    }


def manifest_write(*, out: TextOut, head: dict[str, Any], ledger: Path) -> None:
    """Write the manifest to ``out``, listing every file in ``ledger``."""
    out.write(json.dumps(head, indent=2)[:-2] + ',\n  "files": [')
    separator = "\n"
    with open(ledger, encoding="utf-8") as files:
        # A block of lines at a time: one line per file, 100,000 in a large export.
        while lines := files.readlines(LEDGER_BLOCK):
            out.write(separator + ",\n".join(map(_file_entry, lines)))
            separator = ",\n"
    out.write("\n  ]\n}\n")


def _file_entry(line: str) -> str:
    """What json.dumps gives for {"path": rel, "sha256": sha256, "size": size}, at a fraction of
    its cost. A string is what json.dumps makes of it (ensure_ascii); a hex digest and the
    ledger's decimal size are their own JSON."""
    rel, sha256, size = line.rstrip("\n").split("\t")
    return f'    {{"path": {quoted(rel)}, "sha256": "{sha256}", "size": {size}}}'
