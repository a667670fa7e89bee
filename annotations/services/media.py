"""Image files under MEDIA_ROOT, named by their sha256 and shared by every task (of any project)
that has the same bytes."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from ..images import CheckedImage
from ..models import Task


def image_store(image: CheckedImage) -> tuple[str, bool]:
    """The image's content-addressed path, and whether this call wrote it."""
    path = f"images/{image.sha256[:2]}/{image.sha256}.{image.extension}"
    if default_storage.exists(path):
        return path, False
    default_storage.save(path, ContentFile(image.content))
    return path, True


def images_unstore(paths: list[str]) -> None:
    """Delete files an upload wrote for rows it could not insert, unless a task (of any
    project: files are shared by content) has come to use one meanwhile."""
    unique = set(paths)
    used = set(Task.objects.filter(image__in=unique).values_list("image", flat=True))
    for path in unique - used:
        default_storage.delete(path)
