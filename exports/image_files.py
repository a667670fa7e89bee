"""Reading an image file for an export: opened without following a symlink, a regular file or
nothing, and put into a zip byte for byte with its sha256. Standard library only: the child process
that copies a large export's images (``copier``) runs it without Django."""

from __future__ import annotations

import hashlib
import os
import stat
from typing import Protocol

from .archive import IN_MEMORY


class ImageUnavailable(Exception):
    """A task's image cannot be exported (missing, not a regular file, a symlink)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ZipOut(Protocol):
    def add_bytes(self, name: str, data: bytes) -> None: ...

    def add_file(self, name: str, path: str) -> None: ...


def open_regular(source: str) -> tuple[int, int]:
    """An open descriptor on the image and its size; ImageUnavailable when it is missing, a
    symlink or not a regular file."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise ImageUnavailable("missing_image") from exc
    except OSError as exc:  # ELOOP: the file is a symlink
        raise ImageUnavailable("unsafe_image_reference") from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ImageUnavailable("unsafe_image_reference")
    return fd, info.st_size


def file_sha256(fd: int, size: int) -> str:
    if size <= IN_MEMORY:  # one read: most images, and far fewer calls than file_digest
        return hashlib.sha256(os.pread(fd, size, 0)).hexdigest()
    with os.fdopen(os.dup(fd), "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def image_zip(out: ZipOut, rel: str, source: str) -> tuple[str, int]:
    """Add the image at ``source`` to the zip as ``rel``; return its sha256 and size. Raises
    ImageUnavailable (before anything is written) as ``open_regular``."""
    fd, size = open_regular(source)
    try:
        if size <= IN_MEMORY:  # one read gives the hash, the CRC and the zip's bytes
            data = os.pread(fd, size, 0)
            digest = hashlib.sha256(data).hexdigest()
            out.add_bytes(rel, data)
        else:
            digest = file_sha256(fd, size)
            out.add_file(rel, source)
    finally:
        os.close(fd)
    return digest, size
