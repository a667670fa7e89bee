"""Image files in the file store (the local disk under MEDIA_ROOT, or an S3-compatible store:
sebenzai/object_store_settings.py), named by their sha256 and shared by every task (of any
project) that has the same bytes; and their scaled copies, named by sha256 and size.

Everything goes through ``default_storage``, so a second web node or a Celery worker on another
host sees the same files. A store that is down raises botocore's error out of these functions
(the API answers 503 store_unavailable). Intake stores every file of a request before it inserts
any row, so such a request creates no task; the objects it had already put stay in the store:
they are named by their content, so the retried upload finds and reuses them.
"""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from sebenzai.common.object_store import store_down

from ..images import CheckedImage, image_scale, scaled_name
from ..models import Task

logger = logging.getLogger(__name__)


def image_store(image: CheckedImage) -> tuple[str, bool]:
    """The image's content-addressed path, and whether this call wrote it."""
    path = f"images/{image.sha256[:2]}/{image.sha256}.{image.extension}"
    if default_storage.exists(path):
        return path, False
    default_storage.save(path, ContentFile(image.content))
    return path, True


def images_unstore(paths: list[str]) -> None:
    """Delete files an upload wrote for rows it could not insert, unless a task (of any
    project: files are shared by content) has come to use one meanwhile. A store that is down
    by now keeps them: an unused content-named object harms nothing, and the rows the request
    did insert must still be reported."""
    unique = set(paths)
    used = set(Task.objects.filter(image__in=unique).values_list("image", flat=True))
    try:
        for path in unique - used:
            default_storage.delete(path)
    except Exception as error:
        if not store_down(error):
            raise
        logger.warning("file store down: %d unused image files kept", len(unique - used))


def scaled_copy_store(*, task: Task, size: int) -> str:
    """The name of the task's scaled copy (WebP, longest side ``size``), made from the original
    and stored on first request. Named by content hash and size, so a copy is valid for as long
    as the image exists, and two racing requests write the same bytes.
    FileNotFoundError when the original is missing from the store."""
    name = scaled_name(sha256=task.sha256, size=size)
    if default_storage.exists(name):
        return name
    with default_storage.open(task.image, "rb") as handle:
        content = image_scale(handle.read(), size=size)
    saved = default_storage.save(name, ContentFile(content))
    if saved != name:  # the local disk: another request saved it first; keep theirs
        default_storage.delete(saved)
    return name
