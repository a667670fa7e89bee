"""One export, as ``manage.py export_dataset`` runs it, in a process of its own so that its memory
is its own; prints one JSON line: the export's wall time and CPU time (every thread of this
process, user and system: less swayed than wall time by other work on a shared machine), this
process's peak RSS and its RSS before the export began (Django, the connection and the project row loaded), the output's size
and its image and object counts.

    python -m benchmarks.children.export_once '{"project": name, "format": "coco",
                                               "out": path, "zip": true}'
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import django

from benchmarks.harness.usage import peak_rss_kb, rss_kb


def main(spec: dict) -> None:
    django.setup()
    from annotations.models import Project
    from exports.dataset import dataset_write
    from exports.options import export_options_build

    project = Project.objects.get(name=spec["project"])
    options = export_options_build(
        kind=project.kind, fmt=spec["format"], split=None, min_confidence=None
    )
    before_kb = rss_kb()
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    result = dataset_write(
        project=project, options=options, out=Path(spec["out"]), as_zip=spec["zip"]
    )
    elapsed = time.perf_counter() - started
    figures = {
        "seconds": elapsed,
        "cpu_seconds": cpu_seconds() - cpu_before,
        "peak_kb": peak_rss_kb(),
        "before_kb": before_kb,
        "size": result.size,
        "images": result.counts["images"]["total"],
        "objects": result.counts["objects"]["total"],
    }
    print(json.dumps(figures))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
