"""Variants measured in turn within each run, so that every one meets the same load on a shared
machine: this checkout with each client flow asked for, and with ``--before DIR`` an older
checkout (a ``git worktree``) first, its clients using two requests an answer as they had to."""

from __future__ import annotations

import argparse
import copy
from dataclasses import dataclass
from pathlib import Path

from benchmarks.throughput.report import fmt, med

FLOW_NAMES = {"one": "submit carries next", "two": "next, then submit"}


@dataclass(frozen=True)
class Variant:
    name: str
    app_dir: Path
    flow: str
    server: str  # gunicorn's worker class

    def args(self, args: argparse.Namespace) -> argparse.Namespace:
        """The run's flags with this variant's app, client flow and server."""
        own = copy.copy(args)
        own.app_dir, own.flow, own.gunicorn_class = self.app_dir, self.flow, self.server
        return own

    def env(self, env: dict[str, str]) -> dict[str, str]:
        return {**env, "PYTHONPATH": str(self.app_dir)}


def variants_of(args: argparse.Namespace) -> list[Variant]:
    servers = args.gunicorn_class.split(",")
    now = [
        Variant(_name("now", flow, server, servers), args.app_dir, flow, server)
        for server in servers
        for flow in args.flow.split(",")
    ]
    if args.before is None:
        return now
    before = _name("before", "two", servers[0], servers)
    return [Variant(before, args.before, "two", servers[0]), *now]


def _name(code: str, flow: str, server: str, servers: list[str]) -> str:
    return f"{code}: {FLOW_NAMES[flow]}" + (f", {server}" if len(servers) > 1 else "")


def comparison(variants: list[Variant], runs: list[dict]) -> list[str]:
    """One row per variant: the medians that the issue's goals name, and each against the first
    variant's (the older code's, with ``--before``)."""

    def medians(variant: Variant) -> dict[str, float]:
        measured = [run[variant.name] for run in runs if variant.name in run]
        a = [m["a"] for m in measured if "a" in m]
        b = [m["b"] for m in measured if "b" in m]
        return {
            "subs": med([x["submits_per_s"] for x in a]),
            "p99": med([x["submit_ms"]["p99"] for x in a]),
            "pairs": med([x["pairs_per_s"] for x in b]),
            "lag": med([x["scoring_lag_s"] for x in a]),
        }

    figures = {variant.name: medians(variant) for variant in variants}
    base = figures[variants[0].name]
    lines = [
        f"## Variants, each run measuring them in turn (medians of {len(runs)})",
        "",
        "| variant | (a) submissions/s | (a) submit p99 ms | (b) pairs/s | scoring lag s |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for variant in variants:
        f = figures[variant.name]
        ratio = "" if f is base else f" ({f['subs'] / base['subs']:.2f}×)"
        pairs = "" if f is base else f" ({f['pairs'] / base['pairs']:.2f}×)"
        lines.append(
            f"| {variant.name} | {fmt(f['subs'])}{ratio} | {fmt(f['p99'])} | "
            f"{fmt(f['pairs'])}{pairs} | {fmt(f['lag'])} |"
        )
    return lines
