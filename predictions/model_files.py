"""Uploaded ONNX files on disk, at ``<MEDIA_ROOT>/models/<sha256>.onnx``: named by content, so
two uploads of one file share it, written whole or not at all (a temporary file in the same
folder, synced, then renamed over the name), and read back only when the digest still matches.

The runtime is optional (the ``onnx`` extra): ``onnx_available`` says whether this process can
check and run a model, without importing it."""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib.util import find_spec
from pathlib import Path

from django.conf import settings

from .models import OnnxModel


class ModelFileUnreadable(Exception):
    """The stored file is missing, or no longer the one uploaded."""


def onnx_available() -> bool:
    return find_spec("onnxruntime") is not None and find_spec("onnx") is not None


def model_file_path(sha256: str) -> Path:
    # Read at call time, so a test's MEDIA_ROOT is honoured.
    return Path(settings.MEDIA_ROOT) / "models" / f"{sha256}.onnx"


def model_file_write(*, content: bytes, sha256: str) -> bool:
    """Store the file unless it is there already; whether this call wrote it."""
    path = model_file_path(sha256)
    if path.is_file():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())  # the bytes are on disk before the rename publishes them
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def model_file_forget(*, sha256: str) -> None:
    """Delete the file unless a model row uses it (files are shared by content)."""
    if not OnnxModel.objects.filter(sha256=sha256).exists():
        model_file_path(sha256).unlink(missing_ok=True)


def model_file_read(*, sha256: str) -> bytes:
    try:
        content = model_file_path(sha256).read_bytes()
    except OSError as exc:
        raise ModelFileUnreadable("The stored model file cannot be read.") from exc
    if hashlib.sha256(content).hexdigest() != sha256:
        raise ModelFileUnreadable("The stored model file is not the one uploaded.")
    return content
