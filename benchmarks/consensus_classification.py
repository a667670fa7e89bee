#!/usr/bin/env python
"""Accuracy and speed of classification consensus on public crowd data, against crowd-kit 1.4.2.

(a) Every data set under ``shared/data/truth/`` (``answers.csv`` task,worker,label and
    ``truth.csv`` task,label), scored on the tasks that have a truth and at least one answer.
    A repeated (task, worker) pair (s_rel has 1,570) keeps the LAST answer in file order; every
    method, ours and crowd-kit's, gets the same de-duplicated answers. Methods:
      - MV: majority vote, accuracy as the expectation under a uniformly random tie-break
        (crowd-kit's MajorityVote instead breaks ties by the first label, deterministically);
      - weighted vote: classification.weighted_vote task by task (the platform's online vote),
        with each worker's accuracy from our default Dawid–Skene; its time includes that fit;
      - ours: dawid_skene full / one_coin / hybrid (= DEFAULT_METHOD), timed from the data frame
        (factorising the strings is included, as crowd-kit's times include its pandas work);
      - crowd-kit: MajorityVote, Wawa, DawidSkene, OneCoinDawidSkene, GLAD, MACE, with defaults.
    Times are the median of ``--repeats`` runs; a method whose first run takes over 10 s runs once.
(b) A scale run: a seeded synthetic project of 1,000,000 answers (100,000 tasks x 10 answers by
    distinct workers, 2,000 workers of lognormal activity, 5 skewed classes; 50 % good workers, 30 %
    sloppy ones who confuse neighbouring classes, 20 % spammers, uniform or stuck on one class). Ours
    against crowd-kit's DawidSkene: accuracy, time, and our peak memory measured in a subprocess
    (peak RSS of the whole process, VmHWM, and the tracemalloc peak of the fit alone).
(c) ``--shrinkage-scan``: held-out answer log-likelihood (5 x 10 % of answers) and accuracy of the
    hybrid for several fixed shrinkage strengths and the estimate (classification/shrinkage.py).
(d) ``--gold``: seeded samples of 10 % of the tasks given as gold; accuracy on the other tasks with
    the gold minus without, over ``--seeds`` samples (classification/gold.py).
(e) ``--robustness``: accuracy on ``--seeds`` seeded subsamples of 60 % of the answers
    (classification/robustness.py). (c)-(e) compare our default with the hybrid at m = 5 (the
    default before m was estimated) and full; they run without crowd-kit.

    .venv/bin/pip install -e '.[dev,bench]'
    .venv/bin/python benchmarks/consensus_classification.py [--skip-slow] [--repeats 3]
        [--no-scale | --scale-only] [--sets d_product,web]
        [--shrinkage-scan | --gold | --robustness] [--seeds 20]

On this shared 2-core machine crowd-kit's GLAD takes 1-4 minutes on d_product and s_rel, MACE up
to 3 minutes on s_rel and OneCoinDawidSkene about 2 on s_rel: ``--skip-slow`` leaves these three out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.classification.reports import gold_report, robustness_report  # noqa: E402
from benchmarks.classification.scoring import accuracy_on  # noqa: E402
from benchmarks.classification.shrinkage import shrinkage_scan  # noqa: E402
from benchmarks.classification.synthetic import synthetic  # noqa: E402
from consensus.algorithms.classification import weighted_vote  # noqa: E402
from consensus.algorithms.dawid_skene import (  # noqa: E402
    DEFAULT_METHOD,
    dawid_skene,
    vote_shares,
)

DATA = ROOT.parent / "shared" / "data" / "truth"
SLOW = {"crowd-kit GLAD", "crowd-kit MACE", "crowd-kit OneCoinDawidSkene"}
REPEAT_LIMIT_S = 10.0
FIELD_BEST = {  # data/README.md: best published accuracy, for reference only
    "d_product": "BCC 93.78",
    "d_possent": "D&S 96.00",
    "s_rel": "LFC 61.64",
    "bluebirds": "D&S ≈ 89",
    "web": "Minimax ≈ 89",
    "snow_rte": "D&S ≈ 93",
    "s_dog": "Minimax ≈ 84",
}


@dataclass(frozen=True)
class Encoded:
    task: np.ndarray
    worker: np.ndarray
    label: np.ndarray
    tasks: pd.Index
    workers: pd.Index
    classes: pd.Index


@dataclass(frozen=True)
class DataSet:
    name: str
    answers: pd.DataFrame  # task, worker, label as strings; one row per (task, worker)
    encoded: Encoded
    truth: np.ndarray  # (n_tasks,) class index; -1 no truth; -2 a class no one answered
    scored: np.ndarray  # tasks with a truth (and, being tasks of answers, at least one answer)


def encode(answers: pd.DataFrame) -> Encoded:
    """Strings to dense indices; classes sorted so that class order does not depend on row order."""
    task, tasks = pd.factorize(answers["task"])
    worker, workers = pd.factorize(answers["worker"])
    label, classes = pd.factorize(answers["label"], sort=True)
    return Encoded(task, worker, label, pd.Index(tasks), pd.Index(workers), pd.Index(classes))


def load(folder: Path) -> DataSet:
    """Read one data set; a repeated (task, worker) pair keeps its last answer in file order."""
    raw = pd.read_csv(folder / "answers.csv", dtype=str)
    answers = raw.drop_duplicates(["task", "worker"], keep="last").reset_index(drop=True)
    enc = encode(answers)
    truth_by_task = pd.read_csv(folder / "truth.csv", dtype=str).set_index("task")["label"]
    truth_str = truth_by_task.reindex(enc.tasks)
    known = truth_str.notna().to_numpy()
    idx = enc.classes.get_indexer(truth_str.fillna(""))
    truth = np.where(known, np.where(idx >= 0, idx, -2), -1)
    return DataSet(folder.name, answers, enc, truth, known)


def run_ours(method: str) -> Callable[[DataSet], np.ndarray]:
    def run(ds: DataSet) -> np.ndarray:
        enc = encode(ds.answers)
        n = (len(enc.tasks), len(enc.workers), len(enc.classes))
        return dawid_skene(enc.task, enc.worker, enc.label, *n, method=method).posteriors

    return run


def run_majority(ds: DataSet) -> np.ndarray:
    enc = encode(ds.answers)
    n = (len(enc.tasks), len(enc.workers), len(enc.classes))
    return vote_shares(enc.task, enc.worker, enc.label, *n)


def run_weighted_vote(ds: DataSet) -> np.ndarray:
    """The platform's per-task weighted vote, with accuracies from our default Dawid–Skene."""
    enc = encode(ds.answers)
    n = (len(enc.tasks), len(enc.workers), len(enc.classes))
    accuracy = dawid_skene(enc.task, enc.worker, enc.label, *n).accuracy
    classes = [str(c) for c in enc.classes]
    order = np.argsort(enc.task, kind="stable")
    bounds = np.searchsorted(enc.task[order], np.arange(n[0] + 1))
    post = np.zeros((n[0], n[2]))
    for t in range(n[0]):
        rows = order[bounds[t] : bounds[t + 1]]
        votes = [classes[k] for k in enc.label[rows]]
        outcome = weighted_vote(votes, accuracy[enc.worker[rows]], classes)
        post[t] = [outcome.posterior[c] for c in classes]
    return post


def run_crowdkit(name: str) -> Callable[[DataSet], np.ndarray]:
    def run(ds: DataSet) -> np.ndarray:
        labels = crowdkit_model(name).fit_predict(ds.answers)
        idx = ds.encoded.classes.get_indexer(labels.reindex(ds.encoded.tasks).astype(str))
        return np.eye(len(ds.encoded.classes) + 1)[idx][:, :-1]  # one-hot; -1 (missing) -> zeros

    return run


def crowdkit_model(name: str) -> Any:  # crowd-kit is optional: imported here, untyped
    from crowdkit.aggregation import (
        GLAD,
        MACE,
        DawidSkene,
        MajorityVote,
        OneCoinDawidSkene,
        Wawa,
    )

    patch_crowdkit_sklearn()
    return {
        "MajorityVote": MajorityVote,
        "Wawa": Wawa,
        "DawidSkene": lambda: DawidSkene(n_iter=100),
        "OneCoinDawidSkene": lambda: OneCoinDawidSkene(n_iter=100),
        "GLAD": GLAD,
        "MACE": MACE,
    }[name]()


def patch_crowdkit_sklearn() -> None:
    """crowd-kit 1.4.2's Wawa calls sklearn's check_is_fitted, which in scikit-learn >= 1.7
    requires __sklearn_tags__ that crowd-kit's classes lack. Replace it, in Wawa's module only,
    by the check it stands for: the fitted attribute exists."""
    from crowdkit.aggregation.classification import wawa

    def check_is_fitted(estimator: object, attributes: str) -> None:
        if getattr(estimator, attributes, None) is None:
            raise RuntimeError(f"{type(estimator).__name__} is not fitted")

    wawa.check_is_fitted = check_is_fitted


def accuracy(ds: DataSet, post: np.ndarray) -> float:
    """Expected accuracy on scored tasks, ties broken uniformly at random."""
    return accuracy_on(ds.truth, post, ds.scored)


def timed(fn: Callable[[], np.ndarray], repeats: int) -> tuple[np.ndarray, float]:
    times, out = [], None
    for i in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
        if i == 0 and times[0] > REPEAT_LIMIT_S:
            break
    return out, statistics.median(times)


def methods(skip_slow: bool) -> dict[str, Callable[[DataSet], np.ndarray]]:
    table: dict[str, Callable[[DataSet], np.ndarray]] = {
        "MV (random tie-break, expected)": run_majority,
        "weighted vote (DS accuracies)": run_weighted_vote,
        "ours DS full": run_ours("full"),
        "ours DS one-coin": run_ours("one_coin"),
        f"ours DS hybrid = DEFAULT ({DEFAULT_METHOD})": run_ours("hybrid"),
    }
    for name in ("MajorityVote", "Wawa", "DawidSkene", "OneCoinDawidSkene", "GLAD", "MACE"):
        if not (skip_slow and f"crowd-kit {name}" in SLOW):
            table[f"crowd-kit {name}"] = run_crowdkit(name)
    return table


def benchmark_sets(
    sets: list[DataSet], skip_slow: bool, repeats: int
) -> dict[str, dict[str, tuple[float, float]]]:
    results: dict[str, dict[str, tuple[float, float]]] = {}
    for name, fn in methods(skip_slow).items():
        if name.startswith("crowd-kit"):  # warm-up, so that imports are not timed
            fn(DataSet(sets[0].name, sets[0].answers.iloc[:50], *tiny_parts(sets[0])))
        results[name] = {}
        for ds in sets:
            post, seconds = timed(lambda fn=fn, ds=ds: fn(ds), repeats)
            results[name][ds.name] = (accuracy(ds, post), seconds)
            print(f"  {name:45s} {ds.name:10s} {results[name][ds.name]}", file=sys.stderr)
    return results


def tiny_parts(ds: DataSet) -> tuple[Encoded, np.ndarray, np.ndarray]:
    enc = encode(ds.answers.iloc[:50])
    n = len(enc.tasks)
    return enc, np.full(n, -1), np.zeros(n, dtype=bool)


def sets_table(results: dict[str, dict[str, tuple[float, float]]], sets: list[DataSet]) -> str:
    head = "| method | " + " | ".join(ds.name for ds in sets) + " |"
    lines = [head, "|" + " --- |" * (len(sets) + 1)]
    for name, row in results.items():
        cells = [f"{row[ds.name][0]:.2f} ({row[ds.name][1]:.2f} s)" for ds in sets]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(
        "| best published (README) | " + " | ".join(FIELD_BEST[d.name] for d in sets) + " |"
    )
    return "\n".join(lines)


def verdict_table(results: dict[str, dict[str, tuple[float, float]]], sets: list[DataSet]) -> str:
    default = next(n for n in results if "DEFAULT" in n)
    ours = [n for n in results if n.startswith("ours")]
    kit = [n for n in results if n.startswith("crowd-kit")]
    lines = [
        "| data set | crowd-kit best | our best | our default | best − crowd-kit | default − crowd-kit |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for ds in sets:
        k = max(kit, key=lambda n: results[n][ds.name][0])
        o = max(ours, key=lambda n: results[n][ds.name][0])
        ka, oa, da = (results[n][ds.name][0] for n in (k, o, default))
        lines.append(
            f"| {ds.name} | {ka:.2f} ({k.removeprefix('crowd-kit ')}) | {oa:.2f} "
            f"({o.removeprefix('ours DS ')}) | {da:.2f} | {oa - ka:+.2f} | {da - ka:+.2f} |"
        )
    return "\n".join(lines)


# --- scale run ------------------------------------------------------------------------------


def scale_frame(syn: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame({"task": syn["task"], "worker": syn["worker"], "label": syn["label"]})


def scale_ours(
    syn: dict[str, np.ndarray], method: str, from_frame: pd.DataFrame | None
) -> tuple[np.ndarray, int]:
    if from_frame is not None:  # end to end, as crowd-kit gets it: a frame of labels
        enc = encode(from_frame)
        n = (len(enc.tasks), len(enc.workers), len(enc.classes))
        res = dawid_skene(enc.task, enc.worker, enc.label, *n, method=method)
        labels = np.full(syn["truth"].size, -1)
        labels[enc.tasks.to_numpy()] = enc.classes.to_numpy()[res.labels]
        return labels, res.iterations
    n = (syn["truth"].size, int(syn["worker"].max()) + 1, int(syn["label"].max()) + 1)
    res = dawid_skene(syn["task"], syn["worker"], syn["label"], *n, method=method)
    return res.labels, res.iterations


def peak_rss_mib() -> float:
    """Peak resident memory of this process. Linux's VmHWM belongs to the process image, whereas
    ru_maxrss after fork + exec still holds the parent's peak (here: the whole benchmark's)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_probe(path: str, method: str) -> None:
    """Subprocess body: load the answers, fit, print peak RSS and the fit's tracemalloc peak."""
    syn = dict(np.load(path))
    before = peak_rss_mib()
    tracemalloc.start()
    scale_ours(syn, method, None)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    report = {
        "rss_before_mib": before,
        "rss_peak_mib": peak_rss_mib(),
        "fit_traced_peak_mib": peak / 2**20,
    }
    print(json.dumps(report))


def interleaved(
    runners: dict[str, Callable[[], tuple[np.ndarray, int]]], repeats: int
) -> dict[str, tuple[np.ndarray, int, float, float]]:
    """Run every runner once per round, ``repeats`` rounds, so that a busy spell of the shared
    machine slows all of them alike. Median wall and CPU (process) time per runner; one run only
    when the first took over 10 s. CPU time is the steadier figure while others load the cores."""
    wall: dict[str, list[float]] = {name: [] for name in runners}
    cpu: dict[str, list[float]] = {name: [] for name in runners}
    out: dict[str, tuple[np.ndarray, int]] = {}
    for round_ in range(repeats):
        for name, fn in runners.items():
            if round_ and wall[name][0] > REPEAT_LIMIT_S:
                continue
            start, start_cpu = time.perf_counter(), time.process_time()
            out[name] = fn()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
            print(
                f"  scale {name:32s} {wall[name][-1]:.3f} s, cpu {cpu[name][-1]:.3f} s",
                file=sys.stderr,
            )
    return {
        name: (*out[name], statistics.median(wall[name]), statistics.median(cpu[name]))
        for name in runners
    }


def crowdkit_scale(name: str, frame: pd.DataFrame, n_tasks: int) -> tuple[np.ndarray, int]:
    model = crowdkit_model(name)
    pred = model.fit_predict(frame)
    return pred.reindex(np.arange(n_tasks)).to_numpy(), len(model.loss_history_)


def scale_run(repeats: int, skip_slow: bool) -> str:
    syn = synthetic()
    frame = scale_frame(syn)
    n_tasks = syn["truth"].size
    runners: dict[str, Callable[[], tuple[np.ndarray, int]]] = {}
    for method in ("full", "hybrid", "one_coin"):
        runners[f"ours DS {method}|fit"] = lambda m=method: scale_ours(syn, m, None)
        runners[f"ours DS {method}|frame"] = lambda m=method: scale_ours(syn, m, frame)
    for name in ("DawidSkene", "OneCoinDawidSkene"):
        if not (skip_slow and f"crowd-kit {name}" in SLOW):
            runners[f"crowd-kit {name}|frame"] = lambda n=name: crowdkit_scale(n, frame, n_tasks)
    crowdkit_scale("DawidSkene", frame.iloc[:1000], n_tasks)  # warm-up: imports
    done = interleaved(runners, repeats)
    rows = []
    for key in dict.fromkeys(k.split("|")[0] for k in runners):
        labels, iters, *frame_s = done[f"{key}|frame"]
        fit_s = done[f"{key}|fit"][2:] if f"{key}|fit" in done else None
        rows.append((key, 100 * np.mean(labels == syn["truth"]), fit_s, tuple(frame_s), iters))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "answers.npz")
        np.savez(path, **syn)
        memory = {
            m: json.loads(
                subprocess.run(
                    [sys.executable, __file__, "--memory-probe", path, "--method", m],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            for m in ("full", "hybrid")
        }
    return scale_table(rows, memory)


def scale_table(rows: list[tuple], memory: dict[str, dict[str, float]]) -> str:
    lines = [
        "| method | accuracy % | fit on index arrays: wall / CPU (s) "
        "| from the data frame: wall / CPU (s) | EM iterations |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, acc, fit_s, frame_s, iters in rows:
        fit = "—" if fit_s is None else f"{fit_s[0]:.3f} / {fit_s[1]:.3f}"
        lines.append(
            f"| {name} | {acc:.2f} | {fit} | {frame_s[0]:.3f} / {frame_s[1]:.3f} | {iters} |"
        )
    by_name = {r[0]: r for r in rows}
    kit = by_name.get("crowd-kit DawidSkene")
    if kit:
        full = by_name["ours DS full"]
        lines += [
            "",
            f"Speed-up of our full DS over crowd-kit DawidSkene, both from the data frame: "
            f"{kit[3][0] / full[3][0]:.1f}x wall, {kit[3][1] / full[3][1]:.1f}x CPU "
            f"({kit[3][0] / full[2][0]:.1f}x / {kit[3][1] / full[2][1]:.1f}x against our fit on "
            f"index arrays); accuracy difference {full[1] - kit[1]:+.3f} points.",
        ]
    for m, mem in memory.items():
        lines.append(
            f"Peak memory, ours {m}: {mem['rss_peak_mib']:.0f} MiB RSS for the whole process "
            f"({mem['rss_before_mib']:.0f} MiB before the fit); the fit's own allocations peak at "
            f"{mem['fit_traced_peak_mib']:.0f} MiB (tracemalloc)."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--sets", default="", help="comma-separated folder names (default: all)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--skip-slow", action="store_true", help="leave out crowd-kit's GLAD, MACE and one-coin"
    )
    parser.add_argument("--no-scale", action="store_true", help="skip the 1,000,000-answer run")
    parser.add_argument("--scale-only", action="store_true", help="only the 1,000,000-answer run")
    parser.add_argument("--shrinkage-scan", action="store_true")
    parser.add_argument("--gold", action="store_true", help="what 10 %% gold does to the rest")
    parser.add_argument("--robustness", action="store_true", help="accuracy on answer subsamples")
    parser.add_argument("--seeds", type=int, default=20, help="samples for --gold, --robustness")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    parser.add_argument("--method", default="full", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(args.memory_probe, args.method)
        return
    warnings.simplefilter("ignore")  # crowd-kit's pandas deprecation warnings
    names = [s for s in args.sets.split(",") if s] or sorted(p.name for p in args.data.iterdir())
    sets = [] if args.scale_only else [load(args.data / name) for name in names]
    print(
        f"# Classification consensus — {platform.node()}, {os.cpu_count()} cores, "
        f"numpy {np.__version__}, pandas {pd.__version__}\n"
    )
    if args.shrinkage_scan or args.gold or args.robustness:
        if args.shrinkage_scan:
            print(shrinkage_scan(sets) + "\n")
        if args.gold:
            print(gold_report(sets, args.seeds) + "\n")
        if args.robustness:
            print(robustness_report(sets, args.seeds) + "\n")
        return
    if not args.scale_only:
        results = benchmark_sets(sets, args.skip_slow, args.repeats)
        print("Accuracy % (median wall time, s); scored on tasks with truth and ≥ 1 answer.\n")
        print(sets_table(results, sets) + "\n")
        print(verdict_table(results, sets) + "\n")
    if not args.no_scale:
        print(
            "## Scale: 1,000,000 synthetic answers (100,000 tasks x 10, 2,000 workers, 5 classes)\n"
        )
        print(scale_run(args.repeats, args.skip_slow))


if __name__ == "__main__":
    main()
