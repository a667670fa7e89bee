"""Which stored file answers a request for a task's image: the original, or a scaled copy made
on first request (annotations/services/media.py)."""

from __future__ import annotations

from dataclasses import dataclass

from ..images import CONTENT_TYPES
from ..models import Task
from .media import scaled_copy_store


@dataclass(frozen=True)
class ImageFile:
    name: str  # in the file store
    content_type: str  # of the format we detected, never guessed from the bytes by a browser
    filename: str  # offered to the browser: named by the task, never the uploader's name


def task_image_file(*, task: Task, size: int | None) -> ImageFile:
    """The original, or (``size`` below its longest side) the WebP copy of that size.
    Precondition: the caller may read the task's image (selectors.task_image_readable)."""
    if size is not None and size < max(task.width, task.height):
        name = scaled_copy_store(task=task, size=size)
        return ImageFile(name, "image/webp", f"{task.pk}.webp")
    extension = task.image.rsplit(".", 1)[-1]
    return ImageFile(task.image, CONTENT_TYPES[task.image_format], f"{task.pk}.{extension}")
