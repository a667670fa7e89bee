"""``python -m consensus aggregate``: the platform's consensus on a file, without a database.

Classification input is a CSV with columns task, worker, label, found by name (others are
ignored; a repeated task/worker pair: the last answer counts); output ``task,label,confidence``.
Shape input is JSON lines ``{"task", "worker", "boxes": [{"label", "bbox": [x, y, w, h]}]}`` (or
``"polygons"`` with ``"points"``); output JSON lines ``{"task", "boxes" | "polygons",
"confidence"}``. A malformed row stops the run with its line number and exit status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .files import InputError
from .options import check, parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        check(args)
        # Imported here: a classification run need not load Shapely, nor a shape run the CSV code.
        if args.kind == "classification":
            from .classes import aggregate_classes

            aggregate_classes(args, sys.stdout)
        else:
            from .shapes import aggregate_shapes

            aggregate_shapes(args, sys.stdout)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
