"""Before and after in one session: the same benchmark run on an older revision of the code.

``--compare REV`` in a benchmark checks REV out into a temporary git worktree (the working tree
is left alone), runs the benchmark's own script from there with the same arguments under this
Python, and prints its output before this run's, so both sets of figures come from one machine
at one time. Standard library only.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.harness import ROOT


def compare_argv(argv: list[str]) -> tuple[str | None, list[str]]:
    """(REV, the other arguments) from ``argv``; REV None without ``--compare``."""
    rest, rev, items = [], None, iter(argv)
    for item in items:
        if item == "--compare":
            rev = next(items, None)
        elif item.startswith("--compare="):
            rev = item.split("=", 1)[1]
        else:
            rest.append(item)
    return rev, rest


def run_at_revision(rev: str, script: str, argv: list[str]) -> None:
    """Run ``script`` (a path inside the checkout) as it was at ``rev``, printing its output
    under a heading; the worktree is removed afterwards."""
    relative = Path(script).resolve().relative_to(ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-before-") as tmp:
        tree = Path(tmp) / "tree"
        git = ["git", "-C", str(ROOT)]
        subprocess.run([*git, "worktree", "add", "--detach", str(tree), rev], check=True,
                       capture_output=True)  # fmt: skip
        try:
            print(f"## before: {rev} ({_short(rev)})\n", flush=True)
            subprocess.run([sys.executable, str(tree / relative), *argv], check=True, cwd=tree)
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False)
    print("\n## after: the working tree\n", flush=True)


def _short(rev: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev],
                          capture_output=True, text=True, check=False)  # fmt: skip
    return done.stdout.strip() or "?"
