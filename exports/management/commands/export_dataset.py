"""``manage.py export_dataset PROJECT --format ... --out PATH``: the same snapshot an API export
builds, written to a folder (or one zip) on this machine; the images are read from the object
store when one is configured (S3_BUCKET)."""

from __future__ import annotations

import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotations.models import Project
from exports.dataset import DatasetResult, dataset_write
from exports.models import ExportFormat
from exports.options import export_options_build, split_parse
from sebenzai.common.errors import DomainError
from sebenzai.common.object_store import store_down


class ProgressBar:
    """One line on stderr, redrawn at most ten times a second. tqdm is not a dependency of the
    project (only of some tools installed beside it), and this is all the command needs."""

    WIDTH = 30

    def __init__(self, stream) -> None:
        self._stream = stream
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        filled = self.WIDTH * done // max(total, 1)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        end = "\n" if done >= total else ""
        self._stream.write(
            f"\r[{bar}] {100 * done // max(total, 1):3d}% {done:,}/{total:,} tasks{end}"
        )
        self._stream.flush()


@contextmanager
def _sigterm_as_exit():
    """A SIGTERM unwinds like Ctrl-C, so the work folder is removed on the way out."""

    def stop(signum, frame):  # noqa: ARG001 - signal handler signature
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _find(ref: str) -> Project:
    try:
        return Project.objects.get(pk=ref)
    except (Project.DoesNotExist, ValidationError):
        matches = list(Project.objects.filter(name=ref)[:2])
    if not matches:
        raise CommandError(f"project: no project with id or name {ref!r}.")
    if len(matches) > 1:
        raise CommandError(f"project: several projects are named {ref!r}; give the id.")
    return matches[0]


class Command(BaseCommand):
    help = "Export a project's accepted labels as a training set (see README, Exports)."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project id, or its exact name")
        parser.add_argument("--format", required=True, help=" | ".join(ExportFormat.values))
        parser.add_argument("--out", required=True, help="folder to create (a zip file with --zip)")
        parser.add_argument("--split", default="0.8,0.1,0.1", help="train,val,test ratios")
        parser.add_argument("--min-confidence", type=float, default=None)
        parser.add_argument(
            "--group-by",
            default="auto",
            help="keep each group in one split: auto (sequence, else camera, else video) | "
            "sequence | camera | video | none",
        )
        parser.add_argument("--zip", action="store_true", help="write one zip file at --out")
        parser.add_argument("--force", action="store_true", help="replace what is at --out")
        parser.add_argument(
            "--copy", action="store_true", help="copy images instead of hard-linking them"
        )

    def handle(self, *args, **options):
        project = _find(options["project"])
        progress = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
        try:
            export_options = export_options_build(
                kind=project.kind,
                fmt=options["format"],
                split=split_parse(options["split"]),
                min_confidence=options["min_confidence"],
                group_by=options["group_by"],
            )
            with _sigterm_as_exit():
                result = dataset_write(
                    project=project,
                    options=export_options,
                    out=Path(options["out"]).absolute(),
                    as_zip=options["zip"],
                    force=options["force"],
                    link_images=not options["copy"],
                    progress=progress,
                )
        except DomainError as exc:
            raise CommandError(f"{exc.field or 'error'}: {exc.message}") from exc
        except Exception as exc:
            if not store_down(exc):
                raise
            # Nothing was written at --out: the work folder went with the failure.
            message = f"store: the file store did not answer ({type(exc).__name__}); try again."
            raise CommandError(message) from exc
        self._report(result)

    def _report(self, result: DatasetResult) -> None:
        counts = result.counts
        images = ", ".join(f"{k} {v:,}" for k, v in counts["images"].items() if k != "total")
        self.stdout.write(f"Wrote {result.path} ({result.size:,} bytes)")
        self.stdout.write(f"Images: {counts['images']['total']:,} ({images})")
        if counts["objects"]["total"]:
            self.stdout.write(f"Objects: {counts['objects']['total']:,}")
        for reason, count in counts["skipped"].items():
            self.stdout.write(f"Skipped ({reason}): {count:,}")
        for state, left in counts["left_out"].items():  # not decided yet: in no export
            if left["tasks"]:
                self.stdout.write(f"Left out (still {state}): {left['tasks']:,}")
        self.stdout.write(f"manifest.json sha256: {result.manifest_sha256}")
