#!/usr/bin/env python
"""Issue 17: the whole ``python -m consensus aggregate`` process on 1,000,000 answers, against
the whole process of crowd-kit 1.4.2's DawidSkene.

Writes a seeded synthetic project as a CSV ``task,worker,label`` (100,000 tasks x 10 answers by
distinct workers, 2,000 workers of lognormal activity, 5 skewed classes; 60 % good workers,
25 % sloppy ones, 15 % spammers), then times each command as a child process, as the user runs it,
from start to exit with its output written to a file:
  - ours: ``.venv/bin/python -m consensus aggregate answers.csv --kind classification``
    (the default hybrid, and ``--method full``);
  - before (``--before REV``, default HEAD): the same command on the ``consensus`` package of
    that git revision, exported with ``git archive`` into a temporary folder;
  - crowd-kit: a script that reads the CSV with pandas, runs ``DawidSkene(n_iter=100)`` and
    writes the labels, under ``--crowdkit-python`` (a Python that has crowd-kit installed).
Wall and CPU (user + system) time are medians of ``--runs`` rounds (each round runs every command once, so a busy
spell of the shared machine slows all alike); peak memory is the child's peak RSS as
``/usr/bin/time`` reports it (its ru_maxrss: the child alone, not this script).

    .venv/bin/python benchmarks/consensus_cli.py [--runs 3] [--before HEAD | --no-before]
        [--crowdkit-python /path/to/python] [--integer-ids]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness.crowd import distinct_workers  # noqa: E402
from benchmarks.harness.output import results_save  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
TIME = Path("/usr/bin/time")
CLASSES = ("cat", "dog", "bird", "fish", "frog")
CROWDKIT_SCRIPT = """
import sys, warnings
warnings.simplefilter("ignore")
import pandas as pd
from crowdkit.aggregation import DawidSkene
answers = pd.read_csv(sys.argv[1])  # as a user would: integer ids read as integers
DawidSkene(n_iter=100).fit_predict(answers).to_csv(sys.argv[2], header=["label"])
"""


@dataclass(frozen=True)
class Command:
    name: str
    argv: list[str]
    cwd: Path


@dataclass(frozen=True)
class Measure:
    wall_s: float
    cpu_s: float  # user + system: steadier than wall time while others load the machine
    peak_mib: float
    accuracy: float


def synthetic_csv(path: Path, *, integer_ids: bool = False, seed: int = 2026) -> dict[str, str]:
    """Write the answers (ids like t12 and w3 and class names, or with ``integer_ids`` plain
    numbers, which pandas reads as integer columns); return the truth, task -> class."""
    rng = np.random.default_rng(seed)
    n_tasks, per_task, n_workers, k = 100_000, 10, 2_000, len(CLASSES)
    prior = 1.0 / np.arange(2, k + 2)
    truth = rng.choice(k, size=n_tasks, p=prior / prior.sum())
    kind = rng.choice(3, size=n_workers, p=[0.6, 0.25, 0.15])
    accuracy = np.select(
        [kind == 0, kind == 1],
        [rng.uniform(0.65, 0.9, n_workers), rng.uniform(0.3, 0.55, n_workers)],
        1.0 / k,
    )
    activity = rng.lognormal(0.0, 1.0, n_workers)
    workers = distinct_workers(rng, n_tasks, per_task, activity / activity.sum()).ravel()
    tasks = np.repeat(np.arange(n_tasks), per_task)
    right = rng.random(tasks.size) < accuracy[workers]
    wrong = (truth[tasks] + rng.integers(1, k, tasks.size)) % k  # a uniform other class
    labels = np.where(right, truth[tasks], wrong)
    order = rng.permutation(tasks.size)  # answers arrive interleaved, not task by task
    t_prefix, w_prefix, names = (
        ("", "", [str(c) for c in range(k)]) if integer_ids else ("t", "w", list(CLASSES))
    )
    with path.open("w") as handle:
        handle.write("task,worker,label\n")
        handle.writelines(
            f"{t_prefix}{t},{w_prefix}{w},{names[c]}\n"
            for t, w, c in zip(
                tasks[order].tolist(), workers[order].tolist(), labels[order].tolist(), strict=True
            )
        )
    return {f"{t_prefix}{t}": names[c] for t, c in enumerate(truth.tolist())}


def export_revision(rev: str, into: Path) -> None:
    """The ``consensus`` package as it was at ``rev``, without touching the work tree."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "consensus"],  # noqa: S607
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def run_once(command: Command, out: Path, truth: dict[str, str]) -> Measure:
    with tempfile.NamedTemporaryFile(suffix=".time") as timing, out.open("w") as stdout:
        start = time.perf_counter()
        subprocess.run(
            [str(TIME), "-f", "%U %S %M", "-o", timing.name, *command.argv],
            cwd=command.cwd,
            stdout=stdout,
            stderr=subprocess.PIPE,
            check=True,
        )
        wall = time.perf_counter() - start
        user, system, peak_kib = Path(timing.name).read_text().split()[-3:]
    return Measure(wall, float(user) + float(system), int(peak_kib) / 1024, accuracy(out, truth))


def accuracy(out: Path, truth: dict[str, str]) -> float:
    with out.open() as handle:
        predicted = {row["task"]: row["label"] for row in csv.DictReader(handle)}
    right: int = sum(predicted.get(t) == label for t, label in truth.items())
    return 100.0 * right / len(truth)


def commands(answers: Path, before: Path | None, crowdkit: str | None) -> list[Command]:
    ours = [str(PYTHON), "-m", "consensus", "aggregate", str(answers), "--kind", "classification"]
    table = []
    if before is not None:
        table.append(Command("ours before (hybrid)", ours, before))
    table.append(Command("ours now (hybrid, the default)", ours, ROOT))
    table.append(Command("ours now (--method full)", [*ours, "--method", "full"], ROOT))
    if crowdkit:
        script = [crowdkit, "-c", CROWDKIT_SCRIPT, str(answers), "OUT"]
        table.append(Command("crowd-kit 1.4.2 DawidSkene", script, ROOT))
    return table


def measure(
    commands: list[Command], runs: int, truth: dict[str, str], tmp: Path
) -> dict[str, list[Measure]]:
    done: dict[str, list[Measure]] = {c.name: [] for c in commands}
    for round_ in range(runs):
        for command in commands:
            out = tmp / "out.csv"
            argv = [str(out) if a == "OUT" else a for a in command.argv]
            m = run_once(Command(command.name, argv, command.cwd), out, truth)
            done[command.name].append(m)
            print(f"  round {round_ + 1} {command.name}: {m}", file=sys.stderr)
    return done


def table(done: dict[str, list[Measure]]) -> str:
    kit = next((ms for name, ms in done.items() if name.startswith("crowd-kit")), None)
    lines = [
        "| whole process | wall s | CPU s | peak RSS MiB | accuracy % | crowd-kit ÷ this (wall / CPU) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, ms in done.items():
        wall, cpu = (statistics.median(getattr(m, f) for m in ms) for f in ("wall_s", "cpu_s"))
        ratio = "—"
        if kit:
            kit_wall, kit_cpu = (
                statistics.median(getattr(m, f) for m in kit) for f in ("wall_s", "cpu_s")
            )
            ratio = f"{kit_wall / wall:.1f}× / {kit_cpu / cpu:.1f}×"
        peak = max(m.peak_mib for m in ms)
        lines.append(
            f"| {name} | {wall:.2f} | {cpu:.2f} | {peak:.0f} | {ms[0].accuracy:.2f} | {ratio} |"
        )
    return "\n".join(lines)


def find_crowdkit(given: str | None) -> str | None:
    candidates = [given] if given else [str(PYTHON), os.environ.get("CROWDKIT_PYTHON", "")]
    for python in filter(None, candidates):
        probe = subprocess.run([python, "-c", "import crowdkit"], capture_output=True)  # noqa: S603
        if probe.returncode == 0:
            return python
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", default="HEAD", help="git revision to compare with")
    parser.add_argument("--no-before", action="store_true")
    parser.add_argument("--crowdkit-python", help="a Python with crowd-kit 1.4.2 installed")
    parser.add_argument(
        "--integer-ids", action="store_true", help="numbers for tasks, workers and classes"
    )
    args = parser.parse_args()
    if not TIME.exists():
        sys.exit("error: needs /usr/bin/time (Debian: apt-get install time) for peak memory")
    crowdkit = find_crowdkit(args.crowdkit_python)
    if crowdkit is None:
        print("crowd-kit not found: pass --crowdkit-python; comparing without it", file=sys.stderr)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        truth = synthetic_csv(tmp / "answers.csv", integer_ids=args.integer_ids)
        before = None
        if not args.no_before:
            before = tmp / "before"
            export_revision(args.before, before)
        done = measure(commands(tmp / "answers.csv", before, crowdkit), args.runs, truth, tmp)
    text = (
        f"1,000,000 answers (100,000 tasks x 10, 2,000 workers, 5 classes), {os.cpu_count()} "
        f"cores, load average {os.getloadavg()[0]:.1f} at the end, median of {args.runs} runs; "
        f"before = {'none' if args.no_before else args.before}; "
        f"ids: {'integers' if args.integer_ids else 'strings'}; peak RSS is the largest of the runs\n\n{table(done)}"
    )
    print(text)
    data = {name: [m.__dict__ for m in ms] for name, ms in done.items()}
    results_save("consensus_cli", data, table=text)


if __name__ == "__main__":
    main()
