"""Class folders, as torchvision's ImageFolder (and Ultralytics' classifier) read them:
``<split>/<label>/<image>``. Moderation projects are foldered by verdict (safe / unsafe).

A label becomes a folder name by percent-encoding anything that is not plainly safe in a path
(``/``, ``\\``, control characters, a leading dot), so no label can climb out of its folder and
the mapping can be undone with ``urllib.parse.unquote``.

Every split has a folder for every class, empty ones included (a folder entry in a zip), because
ImageFolder numbers the class folders it finds, sorted: a class missing from one split would shift
the numbers of the classes after it, so a test image would be scored against another class.
torchvision refuses an empty class folder unless ``allow_empty=True`` (torchvision 0.18 and
later; Ultralytics passes it). The manifest maps each class to its folder (``class_folders``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..records import Record, class_names
from .base import Writer

SAFE = " ()+,-=@_"


def folder_name(label: str) -> str:
    name = quote(label, safe=SAFE)
    return "%2E" + name[1:] if name.startswith(".") else name


class ImageFolderWriter(Writer):
    images_only = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._folders = {name: folder_name(name) for name in class_names(self.project)}
        for split in self.options.active_splits:
            for folder in self._folders.values():
                self.staging.mkdir(f"{split}/{folder}")

    def image_rel(self, record: Record) -> str:
        return f"{record.split}/{self._folders[record.tag]}/{record.file_name}"

    def add(self, record: Record) -> str:
        rel = self.image_rel(record)
        self.staging.image(rel, record.source)
        return rel

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "class_folders": dict(self._folders)}
