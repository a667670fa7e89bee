"""One export, as ``manage.py export_dataset`` runs it, in a process of its own so that its memory
is its own; prints one JSON line: the export's wall time, this process's peak RSS and its RSS
before the export began (Django, the connection and the project row loaded), the output's size
and its image and object counts.

    python -m benchmarks.children.export_once '{"project": name, "format": "coco",
                                               "out": path, "zip": true}'
"""

from __future__ import annotations

import json
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
    started = time.perf_counter()
    result = dataset_write(
        project=project, options=options, out=Path(spec["out"]), as_zip=spec["zip"]
    )
    elapsed = time.perf_counter() - started
    figures = {
        "seconds": elapsed,
        "peak_kb": peak_rss_kb(),
        "before_kb": before_kb,
        "size": result.size,
        "images": result.counts["images"]["total"],
        "objects": result.counts["objects"]["total"],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
