"""The command line's options, all checked before any input is read, so that a wrong option
costs nothing and never leaves half an output behind."""

from __future__ import annotations

import argparse
import os

from .files import InputError

SHAPE_METHODS = ("fusion", "unweighted")
WITHOUT_SKILLS = {"mv", "unweighted"}  # methods that estimate no worker skill
INVALID_POLYGONS = ("repair", "skip")


def class_methods() -> tuple[tuple[str, ...], str]:
    """(the classification methods, the default). Imported when needed: dawid_skene loads
    SciPy, 0.3 s of a shape run that never uses it."""
    from ..algorithms.dawid_skene import DEFAULT_METHOD, METHODS

    return ("mv", *METHODS), DEFAULT_METHOD


def method_help() -> str:
    methods, default = class_methods()
    return (
        f"classification: {', '.join(methods)} (default {default}; one_coin gives each worker one "
        "accuracy whatever the class, and on some sets falls far below majority vote: compare it "
        f"with mv before trusting it); shapes: {', '.join(SHAPE_METHODS)} (default fusion)"
    )


class _HelpFormatter(argparse.HelpFormatter):
    """Builds --method's help only when help is shown (see ``class_methods``)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return method_help() if action.dest == "method" else action.help


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m consensus", description="The platform's consensus on files."
    )
    commands = top.add_subparsers(dest="command", required=True)
    agg = commands.add_parser(
        "aggregate",
        help="fuse the answers in INPUT and print the consensus",
        formatter_class=_HelpFormatter,
    )
    agg.add_argument(
        "input", help="answers file (CSV for classification, JSON lines for shapes); - for stdin"
    )
    agg.add_argument("--kind", required=True, choices=["classification", "bbox", "polygon"])
    agg.add_argument("--method", help="see method_help()")
    agg.add_argument(
        "--gold", help="known answers: CSV task,label or JSON lines like the input without worker"
    )
    agg.add_argument("--skills-out", help="write each worker's estimated accuracy here (CSV)")
    agg.add_argument("--iou", type=float, help="shapes: IoU threshold for matching (default 0.5)")
    agg.add_argument(
        "--invalid",
        choices=INVALID_POLYGONS,
        help="polygons: a self-intersecting worker polygon is repaired (make_valid, its largest "
        "part kept; the default) or skipped; either way counted on stderr",
    )
    return top


def check(args: argparse.Namespace) -> None:
    """Refuse options that do not fit together, and fill in the defaults of those that do."""
    shapes = args.kind != "classification"
    methods, default = (SHAPE_METHODS, SHAPE_METHODS[0]) if shapes else class_methods()
    args.method = args.method or default
    if args.method not in methods:
        raise InputError(f"--method: expected one of {', '.join(methods)} for {args.kind}")
    if args.skills_out and args.method in WITHOUT_SKILLS:
        raise InputError(f"--skills-out: {args.method} estimates no worker skills")
    _check_shape_options(args, shapes)
    if args.input == "-" and args.gold == "-":
        raise InputError("--gold: the answers already come from stdin")
    if args.skills_out:
        _check_writable(args.skills_out)


def _check_shape_options(args: argparse.Namespace, shapes: bool) -> None:
    if not shapes:
        for name in ("iou", "invalid"):
            if getattr(args, name) is not None:
                raise InputError(f"--{name}: only for --kind bbox or polygon")
        return
    if args.invalid is not None and args.kind != "polygon":
        raise InputError("--invalid: only for --kind polygon")
    args.iou = 0.5 if args.iou is None else args.iou
    args.invalid = args.invalid or "repair"
    if not 0.0 < args.iou < 1.0:
        raise InputError("--iou: expected a number between 0 and 1")


def _check_writable(path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise InputError(f"--skills-out: cannot write to {folder}")
    if os.path.isdir(path):
        raise InputError(f"--skills-out: {path} is a folder")
