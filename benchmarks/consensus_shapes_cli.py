#!/usr/bin/env python
"""The whole ``python -m consensus aggregate --kind bbox`` process against a whole script that
runs ensemble-boxes 1.0.9's Weighted Boxes Fusion on the same file.

For each crowd mix (simulate.py MIXES) a seeded pool of 40 workers answers ``--images`` images,
5 workers each, up to 20 boxes; the answers are written as the command's JSON lines (one line per
task and worker, in a shuffled order). Then, as a user runs them, each as a child process from
start to exit with its output written to a file:
  - ours: ``.venv/bin/python -m consensus aggregate answers.jsonl --kind bbox`` (skills learnt
    from the file itself; no gold);
  - before (``--before REV``, default HEAD): the same command on the ``consensus`` package of that
    revision, exported with ``git archive`` into a temporary folder;
  - WBF: a script (WBF_SCRIPT, under ``--wbf-python``) that reads the same file with json, groups
    it by task, fuses each image with ``weighted_boxes_fusion`` and writes JSON lines. It has no
    skills either (every worker weighs 1), and its iou_thr, conf_type and output score threshold
    are tuned against the truth on the first ``--tune`` images: WBF at its best, with an edge.
Both outputs are scored against the truth (F1 at IoU 0.5 with the label, mean IoU of matches).
Wall and CPU (user + system) time are medians of ``--runs`` interleaved rounds.

    .venv/bin/python benchmarks/consensus_shapes_cli.py [--images 2000] [--runs 5]
        [--before HEAD | --no-before] [--mixes mixed]

Runs under a Python with ensemble-boxes and numpy (no Django needed); ours always runs under the
project's .venv.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.consensus_cli import export_revision  # noqa: E402
from benchmarks.shapes.truth import Tally, box_tally  # noqa: E402
from consensus.algorithms.simulate import MIXES, SimImage, make_crowd, simulate_boxes  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
TIME = Path("/usr/bin/time")
POOL = 40
WBF_GRID = {
    "iou_thr": (0.4, 0.5, 0.55, 0.6),
    "conf_type": ("avg", "max", "box_and_model_avg", "absent_model_aware_avg"),
}
THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(20))
WBF_SCRIPT = """
import json, sys, warnings
from collections import defaultdict
import numpy as np
from ensemble_boxes import weighted_boxes_fusion
warnings.simplefilter("ignore")
path, out_path, iou_thr, conf_type, min_score = sys.argv[1:6]
iou_thr, min_score = float(iou_thr), float(min_score)
tasks = defaultdict(dict)
with open(path) as handle:
    for line in handle:
        record = json.loads(line)
        tasks[record["task"]][record["worker"]] = record["boxes"]
labels = sorted({b["label"] for answers in tasks.values() for boxes in answers.values() for b in boxes})
index = {name: k for k, name in enumerate(labels)}
with open(out_path, "w") as out:
    for task, answers in tasks.items():
        xywh = [np.array([b["bbox"] for b in boxes], dtype=float).reshape(-1, 4) for boxes in answers.values()]
        scale = max([1.0] + [float((a[:, :2] + a[:, 2:]).max()) for a in xywh if len(a)])
        corners = [np.concatenate([a[:, :2], a[:, :2] + a[:, 2:]], axis=1) / scale for a in xywh]
        scores = [np.ones(len(a)) for a in xywh]
        names = [np.array([index[b["label"]] for b in boxes], dtype=float) for boxes in answers.values()]
        boxes, score, label = weighted_boxes_fusion(
            corners, scores, names, iou_thr=iou_thr, skip_box_thr=0.0, conf_type=conf_type
        )
        keep = score >= min_score
        b = boxes[keep] * scale
        fused = [
            {"label": labels[int(k)], "bbox": [round(float(v), 2) for v in (x1, y1, x2 - x1, y2 - y1)], "score": round(float(s), 4)}
            for (x1, y1, x2, y2), k, s in zip(b.tolist(), label[keep].tolist(), score[keep].tolist())
        ]
        out.write(json.dumps({"task": task, "boxes": fused}) + "\\n")
"""


@dataclass(frozen=True)
class Measure:
    wall_s: float
    cpu_s: float
    peak_mib: float
    tally: Tally


def answers_file(path: Path, images: list[SimImage], seed: int) -> None:
    lines = [
        json.dumps(
            {
                "task": f"t{i}",
                "worker": f"w{a.worker}",
                "boxes": [
                    {"label": name, "bbox": [round(float(v), 2) for v in box]}
                    for box, name in zip(a.shapes.tolist(), a.labels, strict=True)
                ],
            }
        )
        + "\n"
        for i, im in enumerate(images)
        for a in im.answers
    ]
    order = np.random.default_rng(seed).permutation(len(lines))
    path.write_text("".join(lines[k] for k in order.tolist()))


def score_output(path: Path, images: list[SimImage], first: int | None = None) -> Tally:
    fused: dict[str, list[dict]] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        fused[record["task"]] = record["boxes"]
    total = Tally()
    for i, im in enumerate(images[:first]):
        boxes = fused.get(f"t{i}", [])
        xywh = np.array([b["bbox"] for b in boxes], dtype=float).reshape(-1, 4)
        total.add(box_tally(xywh, [b["label"] for b in boxes], im))
    return total


def tune_wbf(images: list[SimImage], tmp: Path, wbf_python: str) -> tuple[str, str, str]:
    """(iou_thr, conf_type, min_score) with the best F1 on ``images`` (against their truth)."""
    answers_file(tmp / "tune.jsonl", images, seed=0)
    best: tuple[float, tuple[str, str, str]] | None = None
    for iou_thr in WBF_GRID["iou_thr"]:
        for conf_type in WBF_GRID["conf_type"]:
            argv = [wbf_python, "-c", WBF_SCRIPT, str(tmp / "tune.jsonl"), str(tmp / "tuned.jsonl")]
            subprocess.run([*argv, str(iou_thr), conf_type, "0"], check=True)  # noqa: S603
            for q in THRESHOLDS:
                f1 = score_thresholded(tmp / "tuned.jsonl", images, q).f1
                if best is None or f1 > best[0]:
                    best = (f1, (str(iou_thr), conf_type, str(q)))
    assert best is not None
    return best[1]


def score_thresholded(path: Path, images: list[SimImage], min_score: float) -> Tally:
    kept = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        record["boxes"] = [b for b in record["boxes"] if b["score"] >= min_score]
        kept.append(json.dumps(record))
    filtered = path.with_suffix(".filtered")
    filtered.write_text("\n".join(kept) + "\n")
    return score_output(filtered, images)


def run_once(argv: list[str], cwd: Path, out: Path, images: list[SimImage]) -> Measure:
    with tempfile.NamedTemporaryFile(suffix=".time") as timing, out.open("w") as stdout:
        start = time.perf_counter()
        subprocess.run(  # noqa: S603
            [str(TIME), "-f", "%U %S %M", "-o", timing.name, *argv],
            cwd=cwd,
            stdout=stdout,
            check=True,
        )
        wall = time.perf_counter() - start
        user, system, peak_kib = Path(timing.name).read_text().split()[-3:]
    return Measure(
        wall, float(user) + float(system), int(peak_kib) / 1024, score_output(out, images)
    )


def commands(
    answers: Path, before: Path | None, wbf_python: str, wbf: tuple[str, str, str], out: Path
) -> dict[str, tuple[list[str], Path]]:
    ours = [str(PYTHON), "-m", "consensus", "aggregate", str(answers), "--kind", "bbox"]
    table: dict[str, tuple[list[str], Path]] = {}
    if before is not None:
        table["ours before"] = (ours, before)
    table["ours now"] = (ours, ROOT)
    script = [wbf_python, "-c", WBF_SCRIPT, str(answers), str(out), *wbf]
    table[f"WBF (iou_thr {wbf[0]}, {wbf[1]}, score ≥ {wbf[2]})"] = (script, ROOT)
    return table


def measure_mix(args: argparse.Namespace, m: int, mix: str, tmp: Path, before: Path | None) -> str:
    crowd = make_crowd(MIXES[mix], POOL, seed=100 + m)
    images = simulate_boxes(args.images, crowd, workers_per_image=5, max_objects=20, seed=300 + m)
    answers = tmp / f"{mix}.jsonl"
    answers_file(answers, images, seed=m)
    wbf = tune_wbf(images[: args.tune], tmp, args.wbf_python)
    out = tmp / "out.jsonl"
    table = commands(answers, before, args.wbf_python, wbf, out)
    done: dict[str, list[Measure]] = {name: [] for name in table}
    for round_ in range(args.runs):
        for name, (argv, cwd) in table.items():
            done[name].append(run_once(argv, cwd, out, images))
            print(
                f"  {mix} round {round_ + 1} {name}: {done[name][-1].cpu_s:.2f} s CPU",
                file=sys.stderr,
            )
    return rows(mix, args.images, done)


def rows(mix: str, n_images: int, done: dict[str, list[Measure]]) -> str:
    wbf = next(ms for name, ms in done.items() if name.startswith("WBF"))
    wbf_cpu, wbf_wall = (statistics.median(getattr(m, f) for m in wbf) for f in ("cpu_s", "wall_s"))
    lines = []
    for name, ms in done.items():
        cpu, wall = (statistics.median(getattr(m, f) for m in ms) for f in ("cpu_s", "wall_s"))
        t = ms[0].tally
        lines.append(
            f"| {mix} | {name} | {100 * t.f1:.2f} | {t.mean_iou:.4f} | {n_images / cpu:,.0f} | "
            f"{n_images / wall:,.0f} | {wbf_cpu / cpu:.2f}× / {wbf_wall / wall:.2f}× | "
            f"{max(m.peak_mib for m in ms):.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--tune", type=int, default=300, help="images WBF is tuned on")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mixes", nargs="+", default=list(MIXES), choices=list(MIXES))
    parser.add_argument("--before", default="HEAD", help="git revision to compare with")
    parser.add_argument("--no-before", action="store_true")
    parser.add_argument("--wbf-python", default=sys.executable, help="a Python with ensemble-boxes")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    header = [
        "| crowd | whole process | F1@0.5 % | mean IoU | images/s (CPU) | images/s (wall) | "
        "vs WBF (CPU / wall) | peak RSS MiB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        before = None
        if not args.no_before:
            before = tmp / "before"
            export_revision(args.before, before)
        body = [measure_mix(args, list(MIXES).index(mix), mix, tmp, before) for mix in args.mixes]
    print(
        f"{args.images} images × 5 workers × ≤ 20 boxes per mix, no gold; median of {args.runs} "
        f"interleaved rounds; before = {'none' if args.no_before else args.before}\n"
    )
    print("\n".join(header + body))


if __name__ == "__main__":
    main()
