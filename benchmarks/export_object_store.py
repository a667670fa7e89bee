#!/usr/bin/env python
"""An export on the local disk against the same export on an S3-compatible store (moto's server,
a process on loopback, as the tests run it): the build job's wall time, its process's peak RSS,
and the download's round trip.

Seeds a PostgreSQL database of its own (``sebenzai_export_s3_bench``, afresh per image size)
with one bbox project of ``--tasks`` accepted tasks (``--boxes`` boxes each) over distinct
image files of that size, written both to a MEDIA_ROOT and to a bucket. Then each build runs in a fresh child
process (``children/export_build_once.py``) as the Celery worker runs it (``export_build``):
on the local disk (the zip written to EXPORT_ROOT and renamed into place) and on the store
(images fetched from the bucket, the zip uploaded in parts under its key), then downloads it
through the API view (on the store: the 302, then the presigned URL; ``stream`` when
MEDIA_DELIVERY=stream), checking the bytes' sha256. Both zips must be byte-identical.

Peak RSS is the child's ru_maxrss; "growth" is over its RSS before the build (Django, the
connection, the rows' module imports). Two image sizes give two zip sizes: memory bounded means
the growth does not follow the zip.

    .venv/bin/python benchmarks/export_object_store.py [--tasks 2000] [--sizes 2048,65536]
        [--boxes 3] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout: benchmarks.*

from benchmarks.harness import ROOT, BenchError
from benchmarks.harness.venv import run_in_project_venv

run_in_project_venv(__file__)

from benchmarks.harness.output import results_save  # noqa: E402
from benchmarks.harness.postgres import Postgres, database_recreate, postgres_arguments  # noqa: E402
from benchmarks.harness.services import child_command, run_captured  # noqa: E402
from tests.processes import S3Server  # noqa: E402

DB_NAME = "sebenzai_export_s3_bench"
LABELS = ["car", "taxi", "minibus", "bus", "truck"]


def child_env(args, media: Path, exports: Path, store: dict[str, str] | None) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sebenzai.settings",
        "DATABASE_URL": Postgres.from_args(args).url(args.db),
        "SECRET_KEY": "bench-" + "b" * 60,
        "DEBUG": "0",
        "MEDIA_ROOT": str(media),
        "EXPORT_ROOT": str(exports),
        "REDIS_URL": "",
        "MEDIA_DELIVERY": args.delivery,
        "PYTHONPATH": str(ROOT),
    }
    for name in ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
        env.pop(name, None)
    return {**env, **(store or {})}


def images_write(media: Path, bucket, count: int, size: int) -> list[str]:
    """``count`` distinct files of ``size`` bytes at their content-addressed names, on the disk
    and in the bucket; returns their sha256."""
    shas = []
    block = os.urandom(size - 8)
    for i in range(count):
        data = (size * 1_000_000 + i).to_bytes(8, "big") + block
        sha = hashlib.sha256(data).hexdigest()
        name = f"images/{sha[:2]}/{sha}.jpg"
        (media / name).parent.mkdir(parents=True, exist_ok=True)
        (media / name).write_bytes(data)
        bucket.client.put_object(Bucket=bucket.name, Key=name, Body=data)
        shas.append(sha)
    return shas


def seed(args, media: Path, bucket, size: int) -> str:
    """The database afresh with one project over ``--tasks`` images of ``size`` bytes (the seed
    makes one owner, so a database per size); returns its name."""
    database_recreate(Postgres.from_args(args), args.db)
    env = child_env(args, media, media, None)
    run_captured([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    shas = images_write(media, bucket, args.tasks, size)
    name = f"bench s3 {args.tasks} x {size} B"
    spec = {"labels": LABELS, "width": 1280, "height": 720, "boxes": args.boxes,
            "projects": [[name, "bbox", args.tasks]], "shas": shas}  # fmt: skip
    run_captured(child_command("export_seed"), env, stdin=json.dumps(spec))
    return name


def build_once(env: dict[str, str], project: str) -> dict:
    spec = json.dumps({"project": project, "format": "coco"})
    command = [sys.executable, str(ROOT / "benchmarks/children/export_build_once.py"), spec]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BenchError(f"export_build_once failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict]) -> dict:
    keys = ("seconds", "download_seconds", "peak_kb", "before_kb")
    out = {key: statistics.median(run[key] for run in runs) for key in keys}
    return {**runs[0], **out, "sha256s": sorted({run["sha256"] for run in runs})}


def table(rows: list[dict]) -> str:
    head = ("| store | images | zip MB | build s | peak RSS MB | growth MB | download | "
            "download s |\n|---|---:|---:|---:|---:|---:|---|---:|")  # fmt: skip
    lines = [head]
    for row in rows:
        lines.append(
            f"| {row['store']} | {row['images']:,} | {row['size'] / 1e6:.1f} | "
            f"{row['seconds']:.2f} | {row['peak_kb'] / 1024:.0f} | "
            f"{(row['peak_kb'] - row['before_kb']) / 1024:.0f} | {row['download_status']} | "
            f"{row['download_seconds']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--sizes", default="2048,65536", help="image sizes in bytes")
    parser.add_argument("--boxes", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delivery", choices=["redirect", "stream"], default="redirect")
    parser.add_argument("--db", default=DB_NAME)
    postgres_arguments(parser)
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    scratch = Path(tempfile.mkdtemp(prefix="export-s3-bench-"))
    server = S3Server()
    server.start()
    try:
        bucket = server.bucket_create("bench-exports")
        media = scratch / "media"
        rows = []
        for size in args.sizes:
            print(f"== {args.tasks:,} tasks over {size:,} B images, on the disk and in the bucket")
            project = seed(args, media, bucket, size)
            for store, config in (("local disk", None), ("S3 (moto)", bucket.env)):
                env = child_env(args, media, scratch / "exports", config)
                runs = [build_once(env, project) for _ in range(args.runs)]
                rows.append({"store": store, "image_bytes": size, **median_of(runs)})
                print(f"   {store}: build {rows[-1]['seconds']:.2f} s")
        for size in args.sizes:
            hashes = {h for r in rows if r["image_bytes"] == size for h in r["sha256s"]}
            if len(hashes) != 1:
                raise BenchError(f"the zips of {size} B images differ between stores: {hashes}")
        printed = table(rows) + "\n\nBoth stores' zips are byte-identical (one sha256 per size)."
        print(printed)
        results_save("export_object_store", {"args": vars(args), "rows": rows}, table=printed)
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        sys.exit(f"error: {exc}")
