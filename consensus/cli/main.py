"""``python -m consensus aggregate``: the platform's consensus on a file, without a database.

Classification input is a CSV ``task,worker,label`` (a repeated task/worker pair: the last answer
counts); output ``task,label,confidence``. Shape input is JSON lines
``{"task", "worker", "boxes": [{"label", "bbox": [x, y, w, h]}]}`` (or ``"polygons"`` with
``"points"``); output JSON lines ``{"task", "boxes" | "polygons", "confidence"}``. A malformed
row stops the run with its line number and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .classes import CLASS_METHODS, aggregate_classes
from .files import InputError
from .shapes import SHAPE_METHODS, aggregate_shapes


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m consensus", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    agg = commands.add_parser("aggregate", help="fuse the answers in INPUT and print the consensus")
    agg.add_argument(
        "input", help="answers file (CSV for classification, JSON lines for shapes); - for stdin"
    )
    agg.add_argument("--kind", required=True, choices=["classification", "bbox", "polygon"])
    agg.add_argument(
        "--method",
        help=f"classification: {', '.join(CLASS_METHODS)} (default hybrid); "
        f"shapes: {', '.join(SHAPE_METHODS)} (default fusion)",
    )
    agg.add_argument(
        "--gold", help="known answers: CSV task,label or JSON lines like the input without worker"
    )
    agg.add_argument("--skills-out", help="write each worker's estimated accuracy here (CSV)")
    agg.add_argument(
        "--iou", type=float, default=0.5, help="IoU threshold for matching shapes (default 0.5)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.kind == "classification":
            aggregate_classes(args, sys.stdout)
        else:
            aggregate_shapes(args, sys.stdout)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
