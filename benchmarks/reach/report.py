"""The tables: one per profile (medians over runs; answers lost and stuck pages summed over
runs), the issue's quoted figures beside ours, and the targets. kB are 1000 bytes, as DevTools
shows them."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable

# Issue 16's figures for the worker page before item 5's work, and Label Studio 1.23.2's.
QUOTED = {
    "cold kB": (63, 7850),
    "cold s fast3g": (1.6, 46),
    "cold s slow3g": (3.8, 172),
    "next s fast3g": (0.73, 2.4),
    "next s slow3g": (2.0, 6.6),
    "task kB": (34, 229),
}
NEXT_TARGET_MS, WARM_TARGET_S = 150, 2.0


def _row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    return [_row(header), _row("---" for _ in header), *(_row(r) for r in rows)]


def _median(results: list[dict], key: Callable[[dict], float | None]) -> float | None:
    values = [v for v in map(key, results) if v is not None]
    return statistics.median(values) if values else None


def _fmt(value: float | None, fmt: str) -> str:
    return "–" if value is None else fmt.format(value)


def _drop_cell(results: list[dict], name: str) -> str:
    drops = [r["drops"][name] for r in results]
    recovered = _median(drops, lambda d: d["recovered_ms"])
    lost, stuck = sum(d["lost"] for d in drops), sum(d["stuck"] for d in drops)
    offline = sum(bool(d.get("usable_offline")) for d in drops)
    shown = f", next shown offline {offline}/{len(drops)}" if offline else ""
    return f"{_fmt(recovered, '{:.0f}')} ms, {lost} lost, {stuck} stuck{shown}"


def profile_table(results: list[dict], kinds: list[str], drops: list[str]) -> list[str]:
    """Rows: tools; cells: medians over runs."""
    header = ["tool", "cold kB", "cold s", "warm kB", "warm s", "Submit→next ms", "kB/task"]
    header += [f"drop {d}" for d in drops]
    rows = []
    for kind in kinds:
        mine = [r for r in results if r["kind"] == kind]
        rows.append(
            [
                kind,
                _fmt(_median(mine, lambda r: r["cold"]["bytes"] / 1000), "{:.0f}"),
                _fmt(_median(mine, lambda r: r["cold"]["ms"] / 1000), "{:.2f}"),
                _fmt(_median(mine, lambda r: r["warm"]["bytes"] / 1000), "{:.1f}"),
                _fmt(_median(mine, lambda r: r["warm"]["ms"] / 1000), "{:.2f}"),
                _fmt(_median(mine, lambda r: r["next_median_ms"]), "{:.0f}"),
                _fmt(_median(mine, lambda r: r["task_bytes"] / 1000), "{:.1f}"),
                *(_drop_cell(mine, d) for d in drops),
            ]
        )
    return _table(header, rows)


def _measured(results: list[dict], kind: str, metric: str) -> float | None:
    mine = [r for r in results if r["kind"] == kind]
    what, unit, *profile = metric.split()
    if profile:
        mine = [r for r in mine if r["profile"] == profile[0]]
    if what == "cold" and unit == "kB":
        return _median(mine, lambda r: r["cold"]["bytes"] / 1000)
    if what == "task":
        return _median(mine, lambda r: r["task_bytes"] / 1000)
    if what == "cold":
        return _median(mine, lambda r: r["cold"]["ms"] / 1000)
    return _median(mine, lambda r: r["next_median_ms"] / 1000)


LABELS = {
    "cold kB": "bytes to first task usable, cold (kB)",
    "cold s fast3g": "first task usable, cold, Fast 3G (s)",
    "cold s slow3g": "first task usable, cold, Slow 3G (s)",
    "next s fast3g": "Submit → next usable, Fast 3G (s)",
    "next s slow3g": "Submit → next usable, Slow 3G (s)",
    "task kB": "bytes per task (kB)",
}


def comparison_table(results: list[dict], kinds: list[str]) -> list[str]:
    """The issue's figures (Sebenzai before, Label Studio 1.23.2) beside today's, per tool."""
    header = ["figure", "issue: Sebenzai", "issue: Label Studio 1.23.2", *kinds]
    rows = []
    for metric, (before, label_studio) in QUOTED.items():
        measured = [_measured(results, k, metric) for k in kinds]
        fmt = "{:.0f}" if "kB" in metric else "{:.2f}"
        rows.append([LABELS[metric], before, label_studio, *(_fmt(m, fmt) for m in measured)])
    return _table(header, rows)


def targets_table(results: list[dict], kinds: list[str]) -> list[str]:
    """Issue 16's targets, per tool: met or not, with the figure."""
    header = ["tool", f"Submit→next ≤ {NEXT_TARGET_MS} ms (Slow 3G)"]
    header += [f"warm first task ≤ {WARM_TARGET_S:.0f} s (Slow 3G)", "0 lost, 0 stuck (all drops)"]
    rows = []
    for kind in kinds:
        mine = [r for r in results if r["kind"] == kind]
        slow = [r for r in mine if r["profile"] == "slow3g"]
        nxt = _median(slow, lambda r: r["next_median_ms"])
        warm = _median(slow, lambda r: r["warm"]["ms"] / 1000)
        drops = [d for r in mine for d in r["drops"].values()]
        lost, stuck = sum(d["lost"] for d in drops), sum(d["stuck"] for d in drops)
        rows.append(
            [
                kind,
                _verdict(nxt, NEXT_TARGET_MS, "{:.0f} ms"),
                _verdict(warm, WARM_TARGET_S, "{:.2f} s"),
                f"{'met' if lost == stuck == 0 else 'MISSED'}: {lost} lost, {stuck} stuck "
                f"of {len(drops)}",
            ]
        )
    return _table(header, rows)


def _verdict(value: float | None, target: float, fmt: str) -> str:
    if value is None:
        return "– (not run)"
    return f"{'met' if value <= target else 'MISSED'}: {fmt.format(value)}"
