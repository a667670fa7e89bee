"""One export, as ``manage.py export_dataset`` runs it, in a process of its own so that its memory
is its own; prints one JSON line: the export's wall time and CPU time (every thread of this
process and of its child processes, user and system: less swayed than wall time by other work on
a shared machine), this process's peak RSS and its RSS before the export began (Django, the
connection and the project row loaded), its image copier's peak RSS, the output's size and its
image and object counts.

    python -m benchmarks.children.export_once '{"project": name, "format": "coco",
                                               "out": path, "zip": true}'
"""

from __future__ import annotations

import contextlib
import json
import resource
import sys
import threading
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
    children = ChildrenPeak()
    started = time.perf_counter()
    with children:
        result = dataset_write(
            project=project, options=options, out=Path(spec["out"]), as_zip=spec["zip"]
        )
    elapsed = time.perf_counter() - started
    figures = {
        "seconds": elapsed,
        "cpu_seconds": cpu_seconds() - cpu_before,
        "peak_kb": peak_rss_kb(),
        "child_peak_kb": children.peak_kb,
        "before_kb": before_kb,
        "size": result.size,
        "images": result.counts["images"]["total"],
        "objects": result.counts["objects"]["total"],
    }
    print(json.dumps(figures))


class ChildrenPeak:
    """The largest peak RSS (VmHWM) of this process's children while it runs: the image copier's,
    0 when the export started none. Sampled every POLL seconds (a child's peak only grows, so the
    last sample is within POLL of its end). Not ru_maxrss of RUSAGE_CHILDREN: that counts the
    parent's pages a child shares between fork and exec, so it reports the parent's size."""

    POLL = 0.05

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ChildrenPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self.POLL):
            for pid in _children():
                self.peak_kb = max(self.peak_kb, _hwm_kb(pid))


def _children() -> list[str]:
    found = []
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended
            found += (task / "children").read_text().split()
    return found


def _hwm_kb(pid: str) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # exited
        return 0
    return int(status.split("VmHWM:")[1].split()[0]) if "VmHWM:" in status else 0


def cpu_seconds() -> float:
    """This process's CPU and that of its children that have exited (the export's image copier):
    all the CPU the export took."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
