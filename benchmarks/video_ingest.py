#!/usr/bin/env python
"""Video ingest through the intake service: frames decoded and stored per second, and memory.

Makes a synthetic clip with PyAV (kept in ``var/bench-video/`` for the next run): 1920×1080
H.264, ``--minutes`` long (10) at ``--rate`` frames per second (5). A 10-minute clip at 30 fps
is 18,000 frames that take two 2-core minutes to encode for every change of the clip; at a low
frame rate it keeps the full length (what the quota, the per-video limits and memory see) with
fewer frames to decode, and decoding time scales with frames: the "decoded per second" figure
converts to any rate. Its picture is a new field of random blocks every 4 s with a box moving
across, so 1 fps sampling keeps most frames and scene sampling finds the cuts.

Then one upload through ``tasks_create_from_files`` (what the API view calls) on a PostgreSQL
database of its own (``sebenzai_bench_video``), the clip read from disk as an uploaded file:
hashing, header checks, decoding every frame, sampling, JPEG encoding, writing each frame under
MEDIA_ROOT and inserting the rows. Reports frames decoded per second, frames stored per second,
the wall time and the peak RSS (``resource.getrusage``) against the RSS before the upload.

    .venv/bin/python benchmarks/video_ingest.py [--minutes 10] [--rate 5] [--fps 1] [--sample rate|scene]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout: benchmarks.*

from benchmarks.harness import ROOT
from benchmarks.harness.venv import run_in_project_venv

run_in_project_venv(__file__)

import av  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.harness.django_db import django_on_database  # noqa: E402
from benchmarks.harness.output import results_save  # noqa: E402
from benchmarks.harness.usage import peak_rss_kb, rss_kb  # noqa: E402

DB_NAME = "sebenzai_bench_video"
WIDTH, HEIGHT = 1920, 1080
SCENE_SECONDS = 4


def clip_make(path: Path, *, minutes: float, rate: int) -> None:
    """The synthetic clip: random block fields changing every SCENE_SECONDS, a moving box."""
    rng = np.random.default_rng(15)
    frames = round(minutes * 60 * rate)
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23"}
        field = None
        for index in range(frames):
            if index % (SCENE_SECONDS * rate) == 0:
                grid = rng.integers(0, 256, (HEIGHT // 60, WIDTH // 60, 3), dtype=np.uint8)
                field = grid.repeat(60, axis=0).repeat(60, axis=1)
            picture = field.copy()
            x = (index * 37) % (WIDTH - 200)
            picture[400:600, x : x + 200] = 255
            out.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        out.mux(stream.encode())


def ingest(path: Path, *, fps: float, sample: str) -> dict:
    """One upload of the clip through the intake service; figures of it."""
    import annotations.video as video
    from accounts.models import Role
    from accounts.services import user_create
    from annotations.services.intake import IncomingFile, tasks_create_from_files
    from annotations.services.projects import project_create

    owner = user_create(
        username="bench-video", password="correct-horse-battery-42", role=Role.REQUESTER
    )  # noqa: S106
    project = project_create(owner=owner, data={"name": "video", "kind": "bbox", "labels": ["car"]})
    decoded, real = [0], video._decoded

    def counting(*args, **kwargs):
        for frame in real(*args, **kwargs):
            decoded[0] += 1
            yield frame

    video._decoded = counting
    incoming = IncomingFile("images[0]", path.name, lambda: b"", lambda: path.open("rb"))
    rss_before, started = rss_kb(), time.perf_counter()
    report = tasks_create_from_files(
        project=project, files=iter([incoming]), sampling=video.Sampling(mode=sample, fps=fps)
    )
    seconds = time.perf_counter() - started
    assert not report.errors, report.errors
    return {
        "seconds": seconds,
        "decoded": decoded[0],
        "stored": len(report.created),
        "rss_before_mb": rss_before / 1024,
        "peak_rss_mb": peak_rss_kb() / 1024,
    }


def table(clip: dict, figures: dict) -> str:
    rows = [
        (
            "clip",
            f"{clip['width']}×{clip['height']} H.264, {clip['minutes']:g} min at {clip['rate']} fps, {clip['mb']:.1f} MB",
        ),
        ("sampling", f"{clip['sample']} at {clip['fps']:g} fps"),
        ("frames decoded", f"{figures['decoded']:,}"),
        ("frames stored (tasks)", f"{figures['stored']:,}"),
        ("wall time", f"{figures['seconds']:.1f} s"),
        ("decoded per second", f"{figures['decoded'] / figures['seconds']:.1f}"),
        ("stored per second", f"{figures['stored'] / figures['seconds']:.1f}"),
        ("RSS before upload", f"{figures['rss_before_mb']:.0f} MB"),
        ("peak RSS", f"{figures['peak_rss_mb']:.0f} MB"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"| {'measure'.ljust(width)} | value |", f"| {'-' * width} | --- |"]
    return "\n".join([*lines, *(f"| {name.ljust(width)} | {value} |" for name, value in rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=int, default=5, help="the clip's own frame rate")
    parser.add_argument("--fps", type=float, default=1.0, help="sampling rate")
    parser.add_argument("--sample", choices=["rate", "scene"], default="rate")
    args = parser.parse_args()
    folder = ROOT / "var" / "bench-video"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"clip-{WIDTH}x{HEIGHT}-{args.minutes:g}min-{args.rate}fps.mp4"
    if not path.exists():
        started = time.perf_counter()
        clip_make(path, minutes=args.minutes, rate=args.rate)
        print(f"made {path.name} in {time.perf_counter() - started:.0f} s")
    media = "bench-video-media"
    shutil.rmtree(ROOT / "var" / media, ignore_errors=True)
    django_on_database(DB_NAME, media=media)
    figures = ingest(path, fps=args.fps, sample=args.sample)
    clip = {
        "width": WIDTH,
        "height": HEIGHT,
        "minutes": args.minutes,
        "rate": args.rate,
        "mb": path.stat().st_size / 2**20,
        "fps": args.fps,
        "sample": args.sample,
    }
    text = table(clip, figures)
    print(f"\nvideo ingest on {platform.node()} ({platform.machine()}, PyAV {av.__version__})\n")
    print(text)
    results_save("video_ingest", {"clip": clip, **figures}, table=text)


if __name__ == "__main__":
    main()
