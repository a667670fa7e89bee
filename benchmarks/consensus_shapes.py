#!/usr/bin/env python
"""Quality and speed of box and polygon fusion on the seeded crowd simulator.

For each crowd mix (consensus/algorithms/simulate.py MIXES) a pool of 40 workers first answers
gold images. Each answer is graded against the truth (IoU ≥ 0.5, greedy one-to-one matching) and
fed to skill.py's BetaSkill three ways: presence (label-agnostic F1), label (share of right labels
among the matched boxes) and single (F1 with the label required — the one-number skill). Those
posterior means are all any method below gets. Then, on fresh images answered by 5 pool workers:

(a) boxes — F1 at IoU 0.5 (label must match) and mean IoU of the matched boxes against the
    truth: our fusion (default = presence + label skills; ablations: one skill, Hungarian
    matching, weighted median, unweighted, other quorums) and ensemble-boxes 1.0.9 Weighted
    Boxes Fusion. WBF is tuned on the first ``--tune`` images over a grid — model weights and
    per-box scores from the same skills, iou_thr, skip_box_thr, conf_type — and its best output
    score threshold (its "quorum"), then scored on all images at that setting;
(b) speed on one core (single-threaded BLAS; CPU time of this process, so that other load on
    the shared machine counts less than in wall time): images/s of our per-image call
    ``fuse_boxes``, of the batch call ``fuse_boxes_many`` (same results) and of WBF at its best
    setting — median of ``--repeats`` interleaved runs;
(c) polygons — F1 and mean IoU of the matched polygons against the truth: weighted pixel vote,
    weighted medoid, their unweighted versions, and the best single worker of the pool;
(d) scale — ``--scale`` images × 3–5 workers × up to 20 boxes (mixed crowd): images/s.

    .venv/bin/python benchmarks/consensus_shapes.py [--images 2000] [--scale 100000] [--quick]
        [--compare REV]   # the same run on revision REV first (benchmarks/harness/compare.py)

Needs ensemble-boxes==1.0.9 (benchmark only). Everything is seeded: two runs print the same
quality figures; only the timings move.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: before numpy is imported

import argparse  # noqa: E402
import contextlib  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import consensus.algorithms.boxes as boxes_module  # noqa: E402
from benchmarks.harness.compare import compare_argv, run_at_revision  # noqa: E402
from benchmarks.shapes.truth import (  # noqa: E402
    Skills,
    Tally,
    box_tally,
    estimate_skills,
    matched_ious,
    polygon_tally,
    tally,
)
from consensus.algorithms.boxes import fuse_boxes, fuse_boxes_many  # noqa: E402
from consensus.algorithms.geometry import iou_matrix, polygon_iou_matrix  # noqa: E402
from consensus.algorithms.polygons import fuse_polygons  # noqa: E402
from consensus.algorithms.simulate import (  # noqa: E402
    LABELS,
    MIXES,
    SimImage,
    make_crowd,
    simulate_boxes,
    simulate_polygons,
)

POOL = 40  # workers per crowd
GOLD_BOX_IMAGES, GOLD_POLYGON_IMAGES = 30, 20  # gold images every pool worker answers
WBF_GRID = {
    "weights": ("presence", "presence log-odds", "single"),
    "scores": ("presence", "label", "presence×label"),
    "iou_thr": (0.4, 0.5, 0.55, 0.6),
    "skip_box_thr": (0.0, 0.3, 0.5),
    "conf_type": ("avg", "absent_model_aware_avg"),
}
COARSE_THRESHOLDS = tuple(round(0.05 + 0.1 * k, 2) for k in range(10))
SPEED_TARGET = 3.0
QUORUM_ROWS = (0.4, 0.6)
MIN_WORKER_MATCHES = 50  # a "best single worker" must have matched this many polygons


# ---------------------------------------------------------------------------------------------
# Methods
# ---------------------------------------------------------------------------------------------


def box_tasks(
    images: list[SimImage], accuracy: np.ndarray, label_accuracy: np.ndarray | None = None
) -> list[tuple]:
    tasks = []
    for im in images:
        answers = [(a.shapes, a.labels) for a in im.answers]
        p = [float(accuracy[a.worker]) for a in im.answers]
        if label_accuracy is None:
            tasks.append((answers, p))
        else:
            tasks.append((answers, p, [float(label_accuracy[a.worker]) for a in im.answers]))
    return tasks


def score_fusions(images: list[SimImage], fusions: list) -> Tally:
    total = Tally()
    for image, fusion in zip(images, fusions, strict=True):
        boxes = np.array([o.bbox for o in fusion.objects]).reshape(-1, 4)
        total.add(box_tally(boxes, [o.label for o in fusion.objects], image))
    return total


@dataclass(frozen=True)
class WbfSetting:
    weights: str
    scores: str
    iou_thr: float
    skip_box_thr: float
    conf_type: str

    def __str__(self) -> str:
        return (
            f"weights={self.weights}, scores={self.scores}, iou_thr={self.iou_thr}, "
            f"skip={self.skip_box_thr}, conf={self.conf_type}"
        )


def wbf_inputs(images: list[SimImage], skills: Skills, weights: str, scores: str) -> list[tuple]:
    """Per image the normalised xyxy boxes, per-box scores and label ids, and per-worker model
    weights, all from the same gold skills our fusion gets."""
    index = {name: k for k, name in enumerate(LABELS)}
    p, q, one = (np.clip(x, 1e-3, 1 - 1e-3) for x in (skills.presence, skills.label, skills.single))
    model_w = {
        "presence": p,
        "presence log-odds": np.maximum(np.log(p / (1 - p)), 0.0) + 0.01,  # WBF divides by Σ w
        "single": one,
    }[weights]
    score = {"presence": p, "label": q, "presence×label": p * q}[scores]
    out = []
    for im in images:
        scale = np.array([im.width, im.height, im.width, im.height], dtype=float)
        boxes, box_scores, labels, weight = [], [], [], []
        for a in im.answers:
            xyxy = np.concatenate([a.shapes[:, :2], a.shapes[:, :2] + a.shapes[:, 2:]], axis=1)
            boxes.append(xyxy / scale)
            box_scores.append(np.full(len(a.shapes), score[a.worker]))
            labels.append(np.array([index[n] for n in a.labels], dtype=float))
            weight.append(float(model_w[a.worker]))
        out.append((boxes, box_scores, labels, weight))
    return out


def run_wbf(inputs: list[tuple], setting: WbfSetting) -> list[tuple]:
    from ensemble_boxes import weighted_boxes_fusion  # the benchmark extra: boxes sections only

    return [
        weighted_boxes_fusion(
            boxes,
            scores,
            labels,
            weights=weight,
            iou_thr=setting.iou_thr,
            skip_box_thr=setting.skip_box_thr,
            conf_type=setting.conf_type,
        )
        for boxes, scores, labels, weight in inputs
    ]


def score_wbf(images: list[SimImage], outputs: list[tuple], min_score: float) -> Tally:
    total = Tally()
    for im, (boxes, scores, labels) in zip(images, outputs, strict=True):
        keep = scores >= min_score
        b = boxes[keep] * [im.width, im.height, im.width, im.height]
        xywh = np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)
        total.add(box_tally(xywh, [LABELS[int(k)] for k in labels[keep]], im))
    return total


def best_threshold(images: list[SimImage], outputs: list[tuple]) -> tuple[float, Tally]:
    """The output-score threshold ("quorum") with the best F1: a 0.1 grid, then ±0.05."""
    scored = {q: score_wbf(images, outputs, q) for q in COARSE_THRESHOLDS}
    q = max(scored, key=lambda k: scored[k].f1)
    for fine in (round(q - 0.05, 2), round(q + 0.05, 2)):
        if 0 <= fine < 1:
            scored[fine] = score_wbf(images, outputs, fine)
    q = max(scored, key=lambda k: scored[k].f1)
    return q, scored[q]


def tune_wbf(images: list[SimImage], skills: Skills) -> tuple[WbfSetting, float, Tally]:
    """The grid point and score threshold with the best F1 on ``images``."""
    best: tuple[WbfSetting, float, Tally] | None = None
    for weights in WBF_GRID["weights"]:
        for scores in WBF_GRID["scores"]:
            inputs = wbf_inputs(images, skills, weights, scores)
            for iou_thr in WBF_GRID["iou_thr"]:
                for skip in WBF_GRID["skip_box_thr"]:
                    for conf_type in WBF_GRID["conf_type"]:
                        setting = WbfSetting(weights, scores, iou_thr, skip, conf_type)
                        q, t = best_threshold(images, run_wbf(inputs, setting))
                        if best is None or t.f1 > best[2].f1:
                            best = (setting, q, t)
    assert best is not None
    return best


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


def cpu_seconds(fn: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def interleaved(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[tuple]]:
    """Each function ``repeats`` times, alternating, so slow phases of a shared machine hit all."""
    out: dict[str, list[tuple]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            out[name].append(cpu_seconds(fn))
    return out


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------


def print_table(title: str, header: Sequence[str], rows: list[Sequence[object]]) -> None:
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(" --- " for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    sys.stdout.flush()


def pct(x: float) -> str:
    return f"{100 * x:.2f}"


def skill_line(crowd: Sequence, skills: Skills) -> str:
    kinds: dict[str, list[int]] = {}
    for k, model in enumerate(crowd):
        kinds.setdefault(model.kind, []).append(k)
    return ", ".join(
        f"{kind} {skills.presence[ix].mean():.2f}/{skills.label[ix].mean():.2f}/"
        f"{skills.single[ix].mean():.2f}"
        for kind, ix in kinds.items()
    )


@contextlib.contextmanager
def placement_power(power: float) -> Iterator[None]:
    """Temporarily average box edges with weights w^power (an ablation, not an API)."""
    saved = boxes_module.BOX_PLACEMENT_POWER
    boxes_module.BOX_PLACEMENT_POWER = power
    try:
        yield
    finally:
        boxes_module.BOX_PLACEMENT_POWER = saved


def box_section(args: argparse.Namespace) -> dict[str, dict]:
    results = {}
    for m, mix in enumerate(args.mixes):
        crowd = make_crowd(MIXES[mix], POOL, seed=100 + m)
        gold = simulate_boxes(GOLD_BOX_IMAGES, crowd, workers_per_image=POOL, seed=200 + m)
        skills = estimate_skills(gold, POOL, iou_matrix)
        images = simulate_boxes(
            args.images, crowd, workers_per_image=5, max_objects=20, seed=300 + m
        )
        tasks = box_tasks(images, skills.presence, skills.label)
        variants = {
            "ours — default (greedy, w²-weighted mean, two skills)": (tasks, {}, 2.0),
            "ours, one skill (label-aware F1 for both)": (
                box_tasks(images, skills.single),
                {},
                2.0,
            ),
            "ours, hungarian matching": (tasks, dict(matching="hungarian"), 2.0),
            "ours, w²-weighted median": (tasks, dict(coordinates="median"), 2.0),
            "ours, placement weights w": (tasks, {}, 1.0),
            "ours, placement weights w³": (tasks, {}, 3.0),
            "ours, unweighted (all p = 0.8)": (box_tasks(images, np.full(POOL, 0.8)), {}, 2.0),
        }
        rows, figures = [], {}
        for name, (variant_tasks, options, power) in variants.items():
            with placement_power(power):
                t = score_fusions(images, fuse_boxes_many(variant_tasks, LABELS, **options))
            figures[name] = t
            rows.append([name, pct(t.f1), pct(t.precision), pct(t.recall), f"{t.mean_iou:.4f}"])
        for q in QUORUM_ROWS:
            t = score_fusions(images, fuse_boxes_many(tasks, LABELS, quorum=q))
            name = f"ours, quorum {q}"
            rows.append([name, pct(t.f1), pct(t.precision), pct(t.recall), f"{t.mean_iou:.4f}"])
        setting, q, tuned = tune_wbf(images[: args.tune], skills)
        wbf_in = wbf_inputs(images, skills, setting.weights, setting.scores)
        t = score_wbf(images, run_wbf(wbf_in, setting), q)
        figures["wbf"] = t
        name = f"WBF at its best ({setting}, score ≥ {q})"
        rows.append([name, pct(t.f1), pct(t.precision), pct(t.recall), f"{t.mean_iou:.4f}"])
        print_table(
            f"(a) boxes, crowd '{mix}': {args.images} images × 5 workers, ≤ 20 objects. Gold "
            f"skills presence/label/single by kind: {skill_line(crowd, skills)}. WBF tuned "
            f"on the first {args.tune} images (F1 there {pct(tuned.f1)} %)",
            ["method", "F1@0.5 %", "precision %", "recall %", "mean IoU (matched)"],
            rows,
        )
        results[mix] = {"figures": figures, "tasks": tasks, "wbf_in": wbf_in, "setting": setting}
    return results


def speed_section(args: argparse.Namespace, boxes: dict[str, dict]) -> dict[str, float]:
    rows, ratios = [], {}
    for mix, data in boxes.items():
        tasks, wbf_in, setting = data["tasks"], data["wbf_in"], data["setting"]
        runs = {
            "fuse_boxes (per image)": lambda tasks=tasks: [
                fuse_boxes(a, p, LABELS, label_accuracies=q) for a, p, q in tasks
            ],
            "fuse_boxes_many (batch)": lambda tasks=tasks: fuse_boxes_many(tasks, LABELS),
            "WBF (per image)": lambda wbf_in=wbf_in, setting=setting: run_wbf(wbf_in, setting),
        }
        timings = interleaved(runs, args.repeats)
        n = len(tasks)
        per_s = {
            name: n / statistics.median(c for c, _ in values) for name, values in timings.items()
        }
        wall_s = {
            name: n / statistics.median(w for _, w in values) for name, values in timings.items()
        }
        for name in runs:
            ratio = per_s[name] / per_s["WBF (per image)"]
            ratios[f"{mix}/{name}"] = ratio
            rows.append([mix, name, f"{per_s[name]:,.0f}", f"{wall_s[name]:,.0f}", f"{ratio:.2f}×"])
    print_table(
        f"(b) speed, one core, median of {args.repeats} interleaved runs (CPU-time images/s; "
        "wall-clock images/s for reference)",
        ["crowd", "method", "images/s (CPU)", "images/s (wall)", "vs WBF"],
        rows,
    )
    return ratios


def polygon_section(args: argparse.Namespace) -> dict[str, dict]:
    """Per method: F1, mean IoU of its matches, and two paired means that do not reward a method
    for dropping hard objects: on the objects the best single worker matched (a miss counts 0)
    and on the objects every fusion method matched."""
    rows, out = [], {}
    for m, mix in enumerate(args.mixes):
        crowd = make_crowd(MIXES[mix], POOL, seed=100 + m)
        gold = simulate_polygons(GOLD_POLYGON_IMAGES, crowd, workers_per_image=POOL, seed=400 + m)
        skills = estimate_skills(gold, POOL, polygon_iou_matrix)
        images = simulate_polygons(args.polygon_images, crowd, workers_per_image=5, seed=500 + m)
        flat = np.full(POOL, 0.8)
        variants = {
            "weighted pixel vote (default)": (skills.presence, skills.label, "vote"),
            "weighted medoid": (skills.presence, skills.label, "medoid"),
            "unweighted pixel vote (all p = 0.8)": (flat, flat, "vote"),
            "unweighted medoid (all p = 0.8)": (flat, flat, "medoid"),
        }
        found: dict[str, list[dict[int, float]]] = {}
        tallies: dict[str, Tally] = {}
        rates: dict[str, float] = {}
        for name, (p, q, method) in variants.items():
            found[name], tallies[name] = [], Tally()
            cpu = time.process_time()
            fusions = [
                fuse_polygons(
                    [(a.shapes, a.labels) for a in im.answers],
                    [float(p[a.worker]) for a in im.answers],
                    LABELS,
                    label_accuracies=[float(q[a.worker]) for a in im.answers],
                    method=method,
                )
                for im in images
            ]
            rates[name] = len(images) / (time.process_time() - cpu)
            for im, fusion in zip(images, fusions, strict=True):
                shapes = [np.array(o.points) for o in fusion.objects]
                iou = polygon_iou_matrix(shapes, im.truth)
                names = [o.label for o in fusion.objects]
                tallies[name].add(tally(iou, names, im.truth_labels))
                found[name].append(matched_ious(iou, names, im))
        by_worker: dict[int, list[tuple[int, int, float]]] = {}
        for i, im in enumerate(images):
            for a in im.answers:
                got = matched_ious(polygon_iou_matrix(a.shapes, im.truth), a.labels, im)
                by_worker.setdefault(a.worker, []).extend((i, j, v) for j, v in got.items())
        enough = min(MIN_WORKER_MATCHES, max(len(v) for v in by_worker.values()))
        eligible = {k: v for k, v in by_worker.items() if len(v) >= enough}
        best = max(eligible, key=lambda k: np.mean([v for _, _, v in eligible[k]]))
        best_objects = eligible[best]
        common = [
            (i, j)
            for i in range(len(images))
            for j in found["weighted pixel vote (default)"][i]
            if all(j in found[name][i] for name in variants)
        ]
        worker_t = Tally()
        for im in images:
            a = next((a for a in im.answers if a.worker == best), None)
            if a is not None:
                worker_t.add(polygon_tally(a.shapes, a.labels, im))
        rows.append(
            [
                mix,
                f"best single worker (#{best}, {crowd[best].kind}, {len(best_objects)} matches)",
                pct(worker_t.f1),
                f"{worker_t.mean_iou:.4f}",
                f"{np.mean([v for _, _, v in best_objects]):.4f}",
                "—",
                "—",
            ]
        )
        for name in variants:
            both = [(found[name][i][j], v) for i, j, v in best_objects if j in found[name][i]]
            share = len(both) / len(best_objects)
            on_best = f"{np.mean([f for f, _ in both]):.4f} vs {np.mean([v for _, v in both]):.4f} ({share:.0%} found)"
            on_common = np.mean([found[name][i][j] for i, j in common]) if common else 0.0
            t = tallies[name]
            rows.append(
                [
                    mix,
                    name,
                    pct(t.f1),
                    f"{t.mean_iou:.4f}",
                    on_best,
                    f"{on_common:.4f} (n={len(common)})",
                    f"{rates[name]:,.0f}",
                ]
            )
        out[mix] = {
            "tallies": tallies,
            "found": found,
            "best": best_objects,
            "best_tally": worker_t,
            "common": common,
        }
    print_table(
        f"(c) polygons: {args.polygon_images} images × 5 workers, ≤ 10 objects. Mean IoU "
        "(matched) is over each method's own matches; the paired columns compare on the same "
        f"objects: those the best single worker (≥ {MIN_WORKER_MATCHES} matches, best mean IoU) "
        "and the method both matched, and those every fusion method matched",
        [
            "crowd",
            "method",
            "F1@0.5 %",
            "mean IoU (matched)",
            "on the best worker's objects: fused vs worker",
            "mean IoU on common objects",
            "images/s (CPU)",
        ],
        rows,
    )
    return out


def scale_section(args: argparse.Namespace) -> None:
    crowd = make_crowd(MIXES["mixed"], POOL, seed=900)
    gold = simulate_boxes(GOLD_BOX_IMAGES, crowd, workers_per_image=POOL, seed=901)
    skills = estimate_skills(gold, POOL, iou_matrix)
    cpu = time.process_time()
    images = simulate_boxes(args.scale, crowd, workers_per_image=(3, 5), max_objects=20, seed=902)
    simulated = time.process_time() - cpu
    tasks = box_tasks(images, skills.presence, skills.label)
    n_boxes = sum(len(a.shapes) for im in images for a in im.answers)
    rows = []
    fusions = None
    for name, fn in (
        ("fuse_boxes_many (batch)", lambda: fuse_boxes_many(tasks, LABELS)),
        (
            "fuse_boxes (per image)",
            lambda: [fuse_boxes(a, p, LABELS, label_accuracies=q) for a, p, q in tasks],
        ),
    ):
        wall, cpu = time.perf_counter(), time.process_time()
        fusions = fn()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        rows.append([name, f"{len(tasks) / cpu:,.0f}", f"{len(tasks) / wall:,.0f}", f"{cpu:.1f}"])
    t = score_fusions(images, fusions)
    print_table(
        f"(d) scale: {args.scale:,} images × 3–5 workers × ≤ 20 objects, crowd 'mixed' "
        f"({n_boxes:,} boxes; simulated in {simulated:.0f} s CPU; F1 {pct(t.f1)} %, mean IoU "
        f"{t.mean_iou:.4f})",
        ["method", "images/s (CPU)", "images/s (wall)", "CPU s"],
        rows,
    )


def targets(boxes: dict[str, dict], ratios: dict[str, float], polygons: dict[str, dict]) -> None:
    rows = []
    for mix, data in boxes.items():
        figures = data["figures"]
        ours, wbf = figures[next(iter(figures))], figures["wbf"]
        rows.append(
            [mix, "F1 > WBF best", pct(ours.f1), pct(wbf.f1), f"{100 * (ours.f1 - wbf.f1):+.2f} pt"]
        )
        rows.append(
            [
                mix,
                "mean IoU > WBF best",
                f"{ours.mean_iou:.4f}",
                f"{wbf.mean_iou:.4f}",
                f"{ours.mean_iou - wbf.mean_iou:+.4f}",
            ]
        )
        for name in ("fuse_boxes (per image)", "fuse_boxes_many (batch)"):
            r = ratios.get(f"{mix}/{name}")
            if r is not None:
                rows.append(
                    [
                        mix,
                        f"{name} ≥ {SPEED_TARGET:g}× WBF images/s",
                        f"{r:.2f}×",
                        f"{SPEED_TARGET:g}×",
                        f"{r / SPEED_TARGET - 1:+.0%}",
                    ]
                )
    for mix, data in polygons.items():
        found, best, common = data["found"], data["best"], data["common"]
        default, flat = "weighted pixel vote (default)", "unweighted pixel vote (all p = 0.8)"
        ours, theirs = data["tallies"][default].mean_iou, data["best_tally"].mean_iou
        rows.append(
            [
                mix,
                "polygons: fused > best single worker (own matches)",
                f"{ours:.4f}",
                f"{theirs:.4f}",
                f"{ours - theirs:+.4f}",
            ]
        )
        both = [(found[default][i][j], v) for i, j, v in best if j in found[default][i]]
        fused, worker = np.mean([f for f, _ in both]), np.mean([v for _, v in both])
        rows.append(
            [
                mix,
                "polygons: fused > best single worker (same objects)",
                f"{fused:.4f}",
                f"{worker:.4f}",
                f"{fused - worker:+.4f}",
            ]
        )
        ours, theirs = data["tallies"][default].mean_iou, data["tallies"][flat].mean_iou
        rows.append(
            [
                mix,
                "polygons: fused > unweighted (own matches)",
                f"{ours:.4f}",
                f"{theirs:.4f}",
                f"{ours - theirs:+.4f}",
            ]
        )
        if common:
            ours = np.mean([found[default][i][j] for i, j in common])
            theirs = np.mean([found[flat][i][j] for i, j in common])
            rows.append(
                [
                    mix,
                    "polygons: fused > unweighted (common objects)",
                    f"{ours:.4f}",
                    f"{theirs:.4f}",
                    f"{ours - theirs:+.4f}",
                ]
            )
    print_table("targets", ["crowd", "target", "ours", "reference", "margin"], rows)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000, help="box images per crowd mix")
    parser.add_argument("--tune", type=int, default=300, help="images WBF is tuned on")
    parser.add_argument("--polygon-images", type=int, default=300)
    parser.add_argument("--scale", type=int, default=100_000, help="0 skips the scale run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mixes", nargs="+", default=list(MIXES), choices=list(MIXES))
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--skip", nargs="*", default=[], choices=["boxes", "polygons", "scale"])
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.tune, args.polygon_images, args.scale = 200, 100, 30, 2000
    return args


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    warnings.simplefilter("ignore")  # WBF warns about boxes it clips; both sides get the same data
    print(f"numpy {np.__version__}, Python {sys.version.split()[0]}, one thread per library")
    boxes, ratios, polygons = {}, {}, {}
    if "boxes" not in args.skip:
        try:
            import ensemble_boxes  # noqa: F401
        except ImportError:  # pragma: no cover - benchmark-only dependency
            sys.exit("error: pip install ensemble-boxes==1.0.9 (the benchmark extra)")
        boxes = box_section(args)
        ratios = speed_section(args, boxes)
    if "polygons" not in args.skip:
        polygons = polygon_section(args)
    targets(boxes, ratios, polygons)
    if "scale" not in args.skip and args.scale:
        scale_section(args)


if __name__ == "__main__":
    revision, arguments = compare_argv(sys.argv[1:])
    if revision:
        run_at_revision(revision, __file__, arguments)
    main(arguments)
