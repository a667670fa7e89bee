"""Class folders, as torchvision's ImageFolder (and Ultralytics' classifier) read them:
``<split>/<label>/<image>``. Moderation projects are foldered by verdict (safe / unsafe).

A label becomes a folder name by percent-encoding anything that is not plainly safe in a path
(``/``, ``\\``, control characters, a leading dot), so no label can climb out of its folder and
the mapping can be undone with ``urllib.parse.unquote``. No empty class folders are written:
ImageFolder refuses a class folder without images.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..records import Record
from .base import Writer

SAFE = " ()+,-=@_"


def folder_name(label: str) -> str:
    name = quote(label, safe=SAFE)
    return "%2E" + name[1:] if name.startswith(".") else name


class ImageFolderWriter(Writer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._folders: dict[str, str] = {}

    def add(self, record: Record) -> str:
        folder = self._folders.get(record.tag)
        if folder is None:
            folder = self._folders[record.tag] = folder_name(record.tag)
        rel = f"{record.split}/{folder}/{record.file_name}"
        self.staging.image(rel, record.source)
        return rel
