#!/usr/bin/env python
"""Export speed and memory at scale: 100,000 accepted tasks with 500,000 boxes, every format.

Seeds a PostgreSQL database of its own (``sebenzai_export_bench``, ``--db``) with one bbox project of
``--tasks`` accepted tasks carrying ``--boxes`` boxes each (ten labels, 1280×720 images), one
classification project over the same images (for the class-folder format), and a MEDIA_ROOT of
distinct small image files (2 KB each: the export links or copies bytes and never decodes them,
so their content does not matter, only their number). Then each export runs in a fresh child
process, as ``manage.py export_dataset`` would, once to a folder (images hard-linked) and once
to a zip, and reports:

- time: wall time of the export call (reading the rows, writing every file, hashing every file
  for the manifest, zipping, the atomic move), median of ``--runs`` for zips (the API's path)
  and of ``--folder-runs`` for folders (one by default: each creates a file per image and label,
  and removing them between runs takes as long again);
- CPU time of the child and of any process it started (a large zip's image copier);
- peak RSS of the child, and its growth over the RSS it had before the export began (Django,
  the database connection and the project row already loaded), and the peak RSS of the image
  copier the export starts (a process of its own, 0 when there is none);
- the same COCO zip export at a tenth of the tasks, to show that memory does not grow with the
  project.

The seeded database and files are kept for the next run (``--reseed`` makes them again).
Figures are also written as JSON to ``benchmarks/out/``.

    .venv/bin/python benchmarks/export.py [--tasks 100000] [--boxes 5] [--runs 3] [--folder-runs 1]
        [--formats coco,yolo,...] [--modes zip,folder] [--compare REV] [--reseed] [--cold]

With ``--compare REV`` every export also runs with the code of the git revision REV (checked out
once in a worktree under /tmp), each before-run next to an after-run of this checkout, so both
see the same load on a shared machine; the table then has a row for each, and a line per format
with the change.

With ``--cold`` the images are dropped from the page cache before each export, as for images
uploaded long ago: every read then waits on the disk.

Reference (the issue's): Label Studio 1.23 on this kind of 2-core machine took 5.9 s to export
6,300 boxes as COCO while its server held 1.3 GB.

The children: ``benchmarks/children/export_seed.py`` (the rows) and ``export_once.py`` (one export).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout: benchmarks.*

from benchmarks.harness import ROOT, BenchError
from benchmarks.harness.venv import run_in_project_venv

run_in_project_venv(__file__)

import psycopg2  # noqa: E402

from benchmarks.harness.output import results_save  # noqa: E402
from benchmarks.harness.postgres import (  # noqa: E402
    Postgres,
    database_analyze,
    database_recreate,
    postgres_arguments,
)
from benchmarks.harness.services import child_command, run_captured  # noqa: E402

DB_NAME = "sebenzai_export_bench"
LABELS = [
    "car",
    "taxi",
    "minibus",
    "bus",
    "truck",
    "van",
    "motorbike",
    "bicycle",
    "person",
    "trailer",
]
WIDTH, HEIGHT = 1280, 720
FORMATS = ["coco", "yolo", "voc", "csv", "jsonl"]
LS_BOXES, LS_SECONDS, LS_RSS_MB = 6_300, 5.9, 1_300
TARGET_SECONDS = 10.0


# --------------------------------------------------------------------------------------------
# Database and media
# --------------------------------------------------------------------------------------------


def child_env(args, media: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sebenzai.settings",
        "DATABASE_URL": Postgres.from_args(args).url(args.db),
        "SECRET_KEY": "bench-" + "b" * 60,
        "DEBUG": "0",
        "MEDIA_ROOT": str(media),
        "REDIS_URL": "",
    }


def seeded(args) -> bool:
    """The kept database holds the projects this run asks for."""
    try:
        conn = Postgres.from_args(args).connect(args.db)
    except psycopg2.OperationalError:
        return False
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT p.name, count(t.id) FROM annotations_project p "
                "JOIN annotations_task t ON t.project_id = p.id GROUP BY p.name"
            )
            counts = dict(cur.fetchall())
    except psycopg2.Error:
        return False
    finally:
        conn.close()
    wanted = {project_name(args, n) for n in (args.tasks, args.tasks // 10)}
    return all(counts.get(name) for name in wanted)


def project_name(args, tasks: int, kind: str = "bbox") -> str:
    return f"bench {kind} {tasks} x {args.boxes}"


def media_write(media: Path, count: int) -> list[str]:
    """``count`` distinct small files at their content-addressed paths; returns their sha256."""
    shas = []
    block = os.urandom(2048)
    for i in range(count):
        data = i.to_bytes(8, "big") + block
        sha = hashlib.sha256(data).hexdigest()
        folder = media / "images" / sha[:2]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{sha}.jpg").write_bytes(data)
        shas.append(sha)
    return shas


def seed(args, media: Path) -> None:
    print(f"== seeding {args.db}: {args.tasks:,} tasks x {args.boxes} boxes (once; kept after)")
    started = time.monotonic()
    pg = Postgres.from_args(args)
    database_recreate(pg, args.db)
    shutil.rmtree(media, ignore_errors=True)
    env = child_env(args, media)
    run_captured([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    shas = media_write(media, args.tasks)
    projects = [
        (project_name(args, args.tasks), "bbox", args.tasks),
        (project_name(args, args.tasks // 10), "bbox", args.tasks // 10),
        (project_name(args, args.tasks, "classification"), "classification", args.tasks),
    ]
    spec = {"labels": LABELS, "width": WIDTH, "height": HEIGHT, "boxes": args.boxes,
            "projects": projects, "shas": shas}  # fmt: skip
    run_captured(child_command("export_seed"), env, stdin=json.dumps(spec))
    database_analyze(pg, args.db)  # planner statistics, as autovacuum would have made them
    print(f"   seeded in {time.monotonic() - started:.0f} s")


def media_evict(media: Path) -> None:
    """Drop the benchmark's own image files from the page cache (the state of images uploaded
    long ago): each export then reads them from the disk."""
    for shard in (media / "images").iterdir():
        for path in shard.iterdir():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


# --------------------------------------------------------------------------------------------
# One export, in a child process
# --------------------------------------------------------------------------------------------

THIS_CODE = "this checkout"


def checkout_of(rev: str) -> Path:
    """A worktree of ``rev`` in the temporary folder (made once, kept): the code to compare against."""
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    path = Path(tempfile.gettempdir()) / f"wt-export-{sha[:12]}"
    if not (path / "exports").is_dir():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(path), sha],
            cwd=ROOT, capture_output=True, check=True,
        )  # fmt: skip
    return path


def run_child(code: Path, spec: dict, env: dict[str, str]) -> dict:
    """This checkout's export_once, on the app code of the checkout ``code`` (first on the
    path): both codes are measured by the same program."""
    command = [sys.executable, str(ROOT / "benchmarks/children/export_once.py"), json.dumps(spec)]
    result = subprocess.run(
        command, cwd=code, env={**env, "PYTHONPATH": str(code)}, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise BenchError(f"export_once in {code} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def export_once(args, media: Path, scratch: Path, code: Path, spec: dict) -> dict:
    out = scratch / ("export.zip" if spec["zip"] else "export")
    if args.cold:
        media_evict(media)
    try:
        return run_child(code, {**spec, "out": str(out)}, child_env(args, media))
    finally:
        if out.is_dir():
            shutil.rmtree(out)
        elif out.exists():
            out.unlink()


def measure(args, media: Path, scratch: Path, project: str, fmt: str, as_zip: bool) -> list[dict]:
    """One row per code measured (this checkout, and REV with --compare), runs interleaved."""
    count = args.runs if as_zip else args.folder_runs
    codes = {THIS_CODE: ROOT, **({args.compare: args.compare_code} if args.compare else {})}
    spec = {"project": project, "format": fmt, "zip": as_zip}
    runs: dict[str, list[dict]] = {name: [] for name in codes}
    for _ in range(count):
        for name, code in reversed(codes.items()):  # the old code first in each round
            runs[name].append(export_once(args, media, scratch, code, spec))
    return [summary(name, spec, runs[name]) for name in codes]


def summary(code: str, spec: dict, runs: list[dict]) -> dict:
    return {
        "code": code,
        "project": spec["project"],
        "format": spec["format"],
        "mode": "zip" if spec["zip"] else "folder",
        "runs": runs,
        "seconds": statistics.median(r["seconds"] for r in runs),
        # Runs by older code may not report it.
        "cpu_seconds": statistics.median(r.get("cpu_seconds", float("nan")) for r in runs),
        "peak_mb": max(r["peak_kb"] for r in runs) / 1024,
        "growth_mb": max(r["peak_kb"] - r["before_kb"] for r in runs) / 1024,
        # Runs by older code, or without a copier, have none.
        "child_peak_mb": max(r.get("child_peak_kb", 0) for r in runs) / 1024,
        "images": runs[0]["images"],
        "objects": runs[0]["objects"],
        "size_mb": runs[0]["size"] / 1e6,
    }


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def table(rows: list[dict], args) -> str:
    code_column = bool(args.compare)
    lines = [
        f"Export of {args.tasks:,} accepted tasks (zip: median of {args.runs} runs, folder: "
        f"{args.folder_runs}{'; images evicted from the page cache before each' if args.cold else ''}"
        f"; PostgreSQL 15 on "
        f"loopback; {os.cpu_count()} cores shared; Python {platform.python_version()})",
        "",
        ("| code " if code_column else "")
        + "| format | to | tasks | boxes | time (s) | CPU (s) | boxes/s | peak RSS (MB) | RSS growth (MB) | copier RSS (MB) | output (MB) |",
        ("| --- " if code_column else "")
        + "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        rate = f"{r['objects'] / r['seconds']:,.0f}" if r["objects"] else "–"
        lines.append(
            (f"| {r['code']} " if code_column else "")
            + f"| {r['format']} | {r['mode']} | {r['images']:,} | {r['objects']:,} | "
            f"{r['seconds']:.2f} | {r['cpu_seconds']:.2f} | {rate} | {r['peak_mb']:.0f} | {r['growth_mb']:.0f} | "
            f"{r['child_peak_mb']:.0f} | {r['size_mb']:,.0f} |"
        )
    lines += changes(rows, args) if code_column else []
    ls_rate = LS_BOXES / LS_SECONDS
    lines += [
        "",
        f"Label Studio 1.23 (the issue's reference): COCO, {LS_BOXES:,} boxes in {LS_SECONDS} s "
        f"({ls_rate:,.0f} boxes/s), server at {LS_RSS_MB:,} MB. Target: 500,000 boxes in under "
        f"{TARGET_SECONDS:.0f} s, memory flat in the project's size.",
    ]
    return "\n".join(lines)


def changes(rows: list[dict], args) -> list[str]:
    """Before and after of each export measured with both codes."""
    lines = [""]
    for after, before in zip(rows[::2], rows[1::2], strict=True):
        lines.append(
            f"{after['format']} {after['mode']} ({after['images']:,} tasks): "
            f"{args.compare} {before['seconds']:.2f} s ({before['cpu_seconds']:.2f} s CPU), "
            f"{before['peak_mb']:.0f} MB -> {THIS_CODE} {after['seconds']:.2f} s "
            f"({after['cpu_seconds']:.2f} s CPU), {after['peak_mb']:.0f} MB "
            f"({after['seconds'] / before['seconds'] - 1:+.0%} time)"
        )
    return lines


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--boxes", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="runs of each zip export")
    parser.add_argument(
        "--folder-runs",
        type=int,
        default=1,
        help="runs of each folder export (slow: a file per image)",
    )
    parser.add_argument("--formats", default=",".join(FORMATS + ["imagefolder"]))
    parser.add_argument("--modes", default="folder,zip", help="zip, folder or both")
    parser.add_argument(
        "--compare",
        metavar="REV",
        help="also run every export with the code of git revision REV, interleaved",
    )
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="evict the images from the page cache before each export (read from the disk)",
    )
    postgres_arguments(parser)
    parser.add_argument("--db", default=DB_NAME, help="the benchmark's own database")
    parser.add_argument("--work", default=str(ROOT / "var" / "bench-export"))
    return parser.parse_args()


def measure_all(args, media: Path, scratch: Path) -> list[dict]:
    """Every format to a folder and to a zip, then the COCO zip of the tenth-size project."""
    rows = []
    modes = [mode == "zip" for mode in args.modes.split(",")]
    for fmt in args.formats.split(","):
        kind = "classification" if fmt == "imagefolder" else "bbox"
        for as_zip in modes:
            measured = measure(
                args, media, scratch, project_name(args, args.tasks, kind), fmt, as_zip
            )
            for row in measured:
                print(
                    f"   {fmt:12s} {row['mode']:6s} {row['seconds']:6.2f} s  "
                    f"peak {row['peak_mb']:.0f} MB  ({row['code']})",
                    flush=True,
                )
            rows += measured
    if "coco" in args.formats.split(",") and True in modes:
        small = project_name(args, args.tasks // 10)
        rows += measure(args, media, scratch, small, "coco", True)
    return rows


def main() -> None:
    args = parse_args()
    work = Path(args.work)
    media = work / "media"
    scratch = work / "out"  # same filesystem as the media: the folder exports hard-link
    args.compare_code = checkout_of(args.compare) if args.compare else None
    try:
        if args.reseed or not seeded(args) or not (media / "images").is_dir():
            seed(args, media)
        scratch.mkdir(parents=True, exist_ok=True)
        rows = measure_all(args, media, scratch)
    except BenchError as exc:
        sys.exit(f"error: {exc}")
    report = table(rows, args)
    print()
    print(report)
    results_save("export", {"rows": rows, "table": report})


if __name__ == "__main__":
    main()
