#!/usr/bin/env python
"""Export speed and memory at scale: 100,000 accepted tasks with 500,000 boxes, every format.

Seeds a PostgreSQL database of its own (``sebenzai_bench_export``) with one bbox project of
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
- peak RSS of the child, and its growth over the RSS it had before the export began (Django,
  the database connection and the project row already loaded);
- the same COCO zip export at a tenth of the tasks, to show that memory does not grow with the
  project.

The seeded database and files are kept for the next run (``--reseed`` makes them again).
Figures are also written as JSON to ``benchmarks/out/``.

    .venv/bin/python benchmarks/export.py [--tasks 100000] [--boxes 5] [--runs 3] [--folder-runs 1] [--reseed] [--cold]

With ``--cold`` the images are dropped from the page cache before each export, as for images
uploaded long ago: every read then waits on the disk.

Reference (the issue's): Label Studio 1.23 on this kind of 2-core machine took 5.9 s to export
6,300 boxes as COCO while its server held 1.3 GB.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"

try:  # the project's own dependencies; re-run under its virtualenv when started with another Python
    import psycopg2
except ImportError:
    if (VENV / "python").exists() and Path(sys.prefix).resolve() != VENV.parent.resolve():
        os.execv(VENV / "python", [VENV / "python", __file__, *sys.argv[1:]])  # noqa: S606
    sys.exit("error: run this with the project's virtualenv: .venv/bin/python " + __file__)

DB_NAME = "sebenzai_bench_export"
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


class BenchError(Exception):
    """A failure worth one readable line."""


# --------------------------------------------------------------------------------------------
# Database and media
# --------------------------------------------------------------------------------------------


def pg_connect(args, dbname: str = "postgres"):
    conn = psycopg2.connect(
        host=args.pg_host, port=args.pg_port, user=args.pg_user, dbname=dbname, connect_timeout=3
    )
    conn.autocommit = True
    return conn


def database_url(args) -> str:
    return f"postgres://{args.pg_user}@{args.pg_host}:{args.pg_port}/{DB_NAME}"


def child_env(args, media: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sebenzai.settings",
        "DATABASE_URL": database_url(args),
        "SECRET_KEY": "bench-" + "b" * 60,
        "DEBUG": "0",
        "MEDIA_ROOT": str(media),
        "REDIS_URL": "",
    }


def seeded(args) -> bool:
    """The kept database holds the projects this run asks for."""
    try:
        conn = pg_connect(args, DB_NAME)
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


def db_recreate(args) -> None:
    conn = pg_connect(args)
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        conn.close()


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


SEED = """
import json, random, sys
import django
django.setup()
from annotations.models import Project, Task
from accounts.models import Role
from accounts.services import user_create

spec = json.load(sys.stdin)
rng = random.Random(7)
owner = user_create(username="bench-owner", password="bench-" + "p" * 20, role=Role.REQUESTER)
labels = [{"name": n, "color": "#123456"} for n in spec["labels"]]


def boxes(count):
    out = []
    for _ in range(count):
        w, h = round(rng.uniform(20, 300), 2), round(rng.uniform(20, 200), 2)
        x, y = round(rng.uniform(0, spec["width"] - w), 2), round(rng.uniform(0, spec["height"] - h), 2)
        out.append({"label": rng.choice(spec["labels"]), "bbox": [x, y, w, h]})
    return out


for name, kind, tasks in spec["projects"]:
    project = Project.objects.create(owner=owner, name=name, kind=kind, labels=labels, status="active")
    batch = []
    for sha in spec["shas"][:tasks]:
        label = {"boxes": boxes(spec["boxes"])} if kind == "bbox" else {"label": rng.choice(spec["labels"])}
        batch.append(Task(project=project, image=f"images/{sha[:2]}/{sha}.jpg", sha256=sha,
                          image_format="JPEG", width=spec["width"], height=spec["height"],
                          state="accepted", accepted_label=label, confidence=round(rng.uniform(0.8, 1), 4),
                          answers_count=3, target_redundancy=3))
        if len(batch) == 5000:
            Task.objects.bulk_create(batch)
            batch = []
    Task.objects.bulk_create(batch)
    print(name, tasks, flush=True)
"""


def seed(args, media: Path) -> None:
    print(f"== seeding {DB_NAME}: {args.tasks:,} tasks x {args.boxes} boxes (once; kept after)")
    started = time.monotonic()
    db_recreate(args)
    shutil.rmtree(media, ignore_errors=True)
    env = child_env(args, media)
    run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    shas = media_write(media, args.tasks)
    projects = [
        (project_name(args, args.tasks), "bbox", args.tasks),
        (project_name(args, args.tasks // 10), "bbox", args.tasks // 10),
        (project_name(args, args.tasks, "classification"), "classification", args.tasks),
    ]
    spec = {"labels": LABELS, "width": WIDTH, "height": HEIGHT, "boxes": args.boxes,
            "projects": projects, "shas": shas}  # fmt: skip
    run([sys.executable, "-c", SEED], env, stdin=json.dumps(spec))
    conn = pg_connect(args, DB_NAME)
    try:  # planner statistics, as autovacuum would have made them on a live server
        with conn.cursor() as cur:
            cur.execute("ANALYZE")
    finally:
        conn.close()
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


def run(command: list[str], env: dict, stdin: str | None = None) -> str:
    result = subprocess.run(command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(command[:3])} failed:\n{result.stderr[-2000:]}")
    return result.stdout


# --------------------------------------------------------------------------------------------
# One export, in a child process
# --------------------------------------------------------------------------------------------

CHILD = """
import json, os, resource, sys, time
from pathlib import Path
import django
django.setup()
from exports.dataset import dataset_write
from exports.options import export_options_build
from annotations.models import Project

spec = json.loads(sys.argv[1])
project = Project.objects.get(name=spec["project"])
options = export_options_build(kind=project.kind, fmt=spec["format"], split=None, min_confidence=None)
before_kb = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0])
started = time.perf_counter()
result = dataset_write(project=project, options=options, out=Path(spec["out"]), as_zip=spec["zip"])
elapsed = time.perf_counter() - started
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_kb": peak_kb, "before_kb": before_kb,
                  "size": result.size, "images": result.counts["images"]["total"],
                  "objects": result.counts["objects"]["total"]}))
"""


def export_once(args, media: Path, scratch: Path, project: str, fmt: str, as_zip: bool) -> dict:
    out = scratch / ("export.zip" if as_zip else "export")
    spec = {"project": project, "format": fmt, "out": str(out), "zip": as_zip}
    if args.cold:
        media_evict(media)
    try:
        line = run([sys.executable, "-c", CHILD, json.dumps(spec)], child_env(args, media))
        return json.loads(line.strip().splitlines()[-1])
    finally:
        if out.is_dir():
            shutil.rmtree(out)
        elif out.exists():
            out.unlink()


def measure(args, media: Path, scratch: Path, project: str, fmt: str, as_zip: bool) -> dict:
    count = args.runs if as_zip else args.folder_runs
    runs = [export_once(args, media, scratch, project, fmt, as_zip) for _ in range(count)]
    return {
        "project": project,
        "format": fmt,
        "mode": "zip" if as_zip else "folder",
        "runs": runs,
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mb": max(r["peak_kb"] for r in runs) / 1024,
        "growth_mb": max(r["peak_kb"] - r["before_kb"] for r in runs) / 1024,
        "images": runs[0]["images"],
        "objects": runs[0]["objects"],
        "size_mb": runs[0]["size"] / 1e6,
    }


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def table(rows: list[dict], args) -> str:
    lines = [
        f"Export of {args.tasks:,} accepted tasks (zip: median of {args.runs} runs, folder: "
        f"{args.folder_runs}{'; images evicted from the page cache before each' if args.cold else ''}"
        f"; PostgreSQL 15 on "
        f"loopback; {os.cpu_count()} cores shared; Python {platform.python_version()})",
        "",
        "| format | to | tasks | boxes | time (s) | boxes/s | peak RSS (MB) | RSS growth (MB) | output (MB) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        rate = f"{r['objects'] / r['seconds']:,.0f}" if r["objects"] else "–"
        lines.append(
            f"| {r['format']} | {r['mode']} | {r['images']:,} | {r['objects']:,} | "
            f"{r['seconds']:.1f} | {rate} | {r['peak_mb']:.0f} | {r['growth_mb']:.0f} | "
            f"{r['size_mb']:,.0f} |"
        )
    ls_rate = LS_BOXES / LS_SECONDS
    lines += [
        "",
        f"Label Studio 1.23 (the issue's reference): COCO, {LS_BOXES:,} boxes in {LS_SECONDS} s "
        f"({ls_rate:,.0f} boxes/s), server at {LS_RSS_MB:,} MB. Target: 500,000 boxes in under "
        f"{TARGET_SECONDS:.0f} s, memory flat in the project's size.",
    ]
    return "\n".join(lines)


def main() -> None:
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
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="evict the images from the page cache before each export (read from the disk)",
    )
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--work", default=str(ROOT / "var" / "bench-export"))
    args = parser.parse_args()
    work = Path(args.work)
    media = work / "media"
    scratch = work / "out"  # same filesystem as the media: the folder exports hard-link
    try:
        if args.reseed or not seeded(args) or not (media / "images").is_dir():
            seed(args, media)
        scratch.mkdir(parents=True, exist_ok=True)
        rows = []
        for fmt in args.formats.split(","):
            kind = "classification" if fmt == "imagefolder" else "bbox"
            for as_zip in (False, True):
                row = measure(
                    args, media, scratch, project_name(args, args.tasks, kind), fmt, as_zip
                )
                print(
                    f"   {fmt:12s} {row['mode']:6s} {row['seconds']:6.1f} s  peak {row['peak_mb']:.0f} MB",
                    flush=True,
                )
                rows.append(row)
        small = measure(args, media, scratch, project_name(args, args.tasks // 10), "coco", True)
        rows.append(small)
    except BenchError as exc:
        sys.exit(f"error: {exc}")
    report = table(rows, args)
    print()
    print(report)
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"export-{stamp}.json").write_text(json.dumps({"rows": rows, "table": report}, indent=2))


if __name__ == "__main__":
    main()
