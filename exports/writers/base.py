"""What every format writer does: one ``add`` per task in a stable order, then one ``finish``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..options import ExportOptions
from ..records import ProjectInfo, Record
from ..staging import Staging


def num(value: float) -> str:
    """A coordinate as text: Python's shortest round-trip form, the same on every run."""
    return repr(value)


class Writer:
    image_rule = "copied byte for byte, named <sha256>.<jpg|png|webp>"  # in the manifest
    # ``add`` places the record's image at ``image_rel(record)`` and nothing else in the export
    # (its labels go to files written in pieces): its images can then be copied ahead.
    images_only = False

    def __init__(
        self, *, staging: Staging, project: ProjectInfo, options: ExportOptions, scratch: Path
    ) -> None:
        self.staging = staging
        self.project = project
        self.options = options
        self.scratch = scratch  # for spool files that are not part of the export

    def add(self, record: Record) -> str:
        """Place the record's image and labels; return the image's path in the export.

        Implementations place the image first: a task whose image cannot be read raises
        ImageUnavailable before anything of it is written.
        """
        raise NotImplementedError

    def image_rel(self, record: Record) -> str:
        """Where ``add`` places the record's image (for writers that are ``images_only``)."""
        raise NotImplementedError

    def finish(self) -> None:
        """Write what could only be written once every task was seen."""

    def describe(self) -> dict[str, Any]:
        """What the manifest says of this format's files, after ``finish``: how the images were
        placed (and how many), and anything a reader of the format needs besides."""
        return {"images": {"rule": self.image_rule, "copied": self.staging.images_copied}}
