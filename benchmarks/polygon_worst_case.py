#!/usr/bin/env python
"""Worst-case cost of polygon fusion: adversarial combs against typical crowds.

The attack (Trust issue, item 1): valid simple polygons of ~1,000 points shaped like a comb — a
spine with long thin teeth — one the other transposed, so their outlines cross ~(2·teeth)² times.
An exact overlay of them is quadratic in the crossings; polygons.py and geometry.py bound it by
counting edge pairs first (``geometry.edge_pairs``) and voting / intersecting on a fixed raster
beyond ``polygons.VOTE_MAX_EDGE_PAIRS`` / ``geometry.EXACT_MAX_EDGE_PAIRS``. Each case runs the
whole ``fuse_polygons`` call (clustering IoU, vote, members' IoU with the fused outline):

- comb ×5: a comb, its transpose, and three shifted copies of them (one cluster of five);
- comb ×2: a comb and its transpose (the two-account attack);
- comb under the cap: the five-comb crowd with the most teeth whose vote still runs exactly — the
  slowest exact vote the cap admits;
- tracing ×5: five honest, noisy 200- or 1,000-point tracings of one smooth blob;
- simulator: a mostly-good crowd image (5 workers, ≤ 10 star polygons, 6–15 points each), as in
  benchmarks/consensus_shapes.py.

Every case runs in a fresh subprocess (single-threaded BLAS): one warm-up, then ``--runs`` timed
calls; the table quotes the median wall time, images/s (1 / median) and the growth of the peak
resident set (ru_maxrss) during the calls, which counts GEOS's memory as well as numpy's.
``--cap`` overrides both caps: ``--cap 1e15`` reproduces the exact-only fusion of
before the bound (``--teeth 30 60 --skip comb2 cap typical --timeout 300``).

    .venv/bin/python benchmarks/polygon_worst_case.py [--runs 7] [--teeth 30 60 120 249]
        [--compare REV]   # the same run on revision REV first (benchmarks/harness/compare.py)
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: before numpy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness.compare import compare_argv, run_at_revision  # noqa: E402
from consensus.algorithms import geometry, polygons  # noqa: E402
from consensus.algorithms.simulate import (  # noqa: E402
    LABELS,
    MIXES,
    comb_polygon,
    make_crowd,
    simulate_polygons,
)

Answers = list[tuple[list[np.ndarray], list[str]]]
SIZE = 1000.0  # pixels per side of a comb
POINTS = 1000  # points per comb or detailed tracing


def comb_crowd(teeth: int, members: int = 5) -> Answers:
    """A comb, its transpose, and shifted copies of both (one cluster: pairwise IoU ≈ 0.7)."""
    a, pitch = comb_polygon(teeth), SIZE / teeth
    shapes = [a, a[:, ::-1], a + [pitch / 3, 5], a[:, ::-1] + [5, pitch / 3], a - [pitch / 4, 3]]
    return [([s], ["road"]) for s in shapes[:members]]


def tracing_crowd(points: int, members: int = 5, noise: float = 1.5, seed: int = 0) -> Answers:
    """Honest tracings of one smooth blob (radius 300 px), each vertex off by N(0, noise) px."""
    rng = np.random.default_rng(seed)
    answers = []
    for _ in range(members):
        phi = np.sort(rng.uniform(0, 2 * np.pi, points))
        rho = 300 * (1 + 0.2 * np.sin(3 * phi) + 0.1 * np.cos(5 * phi)) + rng.normal(
            0, noise, points
        )
        answers.append(
            ([np.column_stack([500 + rho * np.cos(phi), 500 + rho * np.sin(phi)])], ["road"])
        )
    return answers


def largest_exact_teeth() -> int:
    """The most teeth for which the five-comb crowd's vote still takes the exact overlay."""
    cap = polygons.VOTE_MAX_EDGE_PAIRS
    best = 1
    for teeth in range(2, 80):
        shapes = geometry.as_polygons([a[0][0] for a in comb_crowd(teeth)])
        if geometry.edge_pairs(shapes, cap=cap) > cap:
            break
        best = teeth
    return best


def simulator_images(n: int) -> list[tuple[Answers, list[float]]]:
    crowd = make_crowd(MIXES["mostly-good"], 40, seed=100)
    images = simulate_polygons(n, crowd, workers_per_image=5, seed=500)
    accuracy = {i: 0.6 + 0.35 * (w.kind == "good") for i, w in enumerate(crowd)}
    return [
        ([(a.shapes, a.labels) for a in im.answers], [accuracy[a.worker] for a in im.answers])
        for im in images
    ]


def case_inputs(name: str) -> list[tuple[Answers, list[float]]]:
    """The images of one case (one image, except the simulator's 50)."""
    kind, _, size = name.partition(":")
    if kind == "simulator":
        return simulator_images(50)
    if kind == "tracing":
        answers = tracing_crowd(int(size))
    elif kind == "comb2":
        answers = comb_crowd(int(size), members=2)
    else:
        answers = comb_crowd(largest_exact_teeth() if size == "cap" else int(size))
    return [(answers, [0.8] * len(answers))]


def vote_paths() -> dict[str, int]:
    """Count which vote each cluster takes, by wrapping polygons.py's two votes (the exact one
    takes an image's clusters at once: its last argument is how many)."""
    counts = {"exact": 0, "raster": 0}
    for path, attr in (("exact", "overlay_votes"), ("raster", "raster_vote")):
        original = getattr(polygons, attr)

        def counted(*args: object, _path: str = path, _fn: Callable = original) -> object:
            counts[_path] += int(args[3]) if _path == "exact" else 1  # type: ignore[call-overload]
            return _fn(*args)

        setattr(polygons, attr, counted)
    return counts


def run_case(name: str, runs: int) -> dict:
    """Fuse the case's images ``runs`` times after a warm-up; seconds per image, and how much the
    peak RSS grew over the peak with the inputs built."""
    images = case_inputs(name)
    labels = [*LABELS, "road"]
    counts = vote_paths()

    def fuse_all() -> None:
        for answers, accuracies in images:
            polygons.fuse_polygons(answers, accuracies, labels)

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fuse_all()
    paths = dict(counts)
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fuse_all()
        times.append((time.perf_counter() - start) / len(images))
        cpu.append((time.process_time() - start_cpu) / len(images))
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    points = max(len(p) for answers, _ in images for shapes, _ in answers for p in shapes)
    return {
        "seconds": statistics.median(times),
        "cpu": statistics.median(cpu),
        "rss_mb": grown / 1024,
        "paths": paths,
        "points": points,
    }


def child(name: str, runs: int, cap: float | None, timeout: float) -> dict | None:
    """``run_case`` in a fresh interpreter, so its peak memory is its own."""
    command = [sys.executable, __file__, "--case", name, "--runs", str(runs)]
    command += [] if cap is None else ["--cap", str(cap)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def label(name: str) -> str:
    kind, _, size = name.partition(":")
    return {
        "comb": f"comb ×5, {size} teeth",
        "comb2": f"comb ×2, {size} teeth",
        "tracing": f"tracing ×5, {size} points",
        "simulator": "simulator image, 5 workers",
    }[kind].replace("cap teeth", f"{largest_exact_teeth()} teeth, most under the vote cap")


HEADER = (
    "| case | points/polygon | vote path (clusters) | median ms/image (wall) | (CPU) | images/s "
    "| peak RSS growth MB |\n| --- | --- | --- | --- | --- | --- | --- |"
)


def table_row(name: str, r: dict | None, timeout: float) -> str:
    if r is None:
        return f"| {label(name)} | | | > {timeout:.0f} s (timeout) | | | |"
    path = ", ".join(f"{k} {v}" for k, v in r["paths"].items() if v) or "single member"
    return (
        f"| {label(name)} | {r['points']} | {path} | {1000 * r['seconds']:.1f} "
        f"| {1000 * r['cpu']:.1f} | {1 / r['seconds']:.1f} | {r['rss_mb']:.1f} |"
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed calls per case (median)")
    parser.add_argument("--teeth", type=int, nargs="+", default=[30, 60, 120, 249])
    parser.add_argument("--cap", type=float, help="both caps (default: as in the code)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per case")
    parser.add_argument("--skip", nargs="*", default=[], choices=["comb2", "cap", "typical"])
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case, print JSON
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    if args.cap is not None:
        geometry.EXACT_MAX_EDGE_PAIRS = polygons.VOTE_MAX_EDGE_PAIRS = int(args.cap)
    if args.case:
        print(json.dumps(run_case(args.case, args.runs)))
        return
    cases = [f"comb:{t}" for t in args.teeth]
    cases += [] if "comb2" in args.skip else ["comb2:249"]
    cases += [] if "cap" in args.skip else ["comb:cap"]
    cases += [] if "typical" in args.skip else ["tracing:200", "tracing:1000", "simulator:"]
    print(
        f"VOTE_MAX_EDGE_PAIRS = {polygons.VOTE_MAX_EDGE_PAIRS:,}, EXACT_MAX_EDGE_PAIRS = "
        f"{geometry.EXACT_MAX_EDGE_PAIRS:,}, RASTER_CELLS = {geometry.RASTER_CELLS}, "
        f"{args.runs} runs, load average {os.getloadavg()[0]:.1f}\n\n{HEADER}"
    )
    for name in cases:
        print(table_row(name, child(name, args.runs, args.cap, args.timeout), args.timeout))
        sys.stdout.flush()


if __name__ == "__main__":
    revision, arguments = compare_argv(sys.argv[1:])
    if revision:
        run_at_revision(revision, __file__, arguments)
    main(arguments)
