"""Uploaded ONNX files, named by content (``models/<sha256>.onnx``), so two uploads of one file
share it, and read back only when the digest still matches.

On the local disk (the embedded default) the file is ``<MEDIA_ROOT>/models/<sha256>.onnx``,
written whole or not at all (a temporary file in the same folder, synced, then renamed over the
name). With an object store it is an object of the store, and the runner, a Celery job maybe on
another host, fetches it once into a local cache file named by its sha256 (model_cache_dir), checks
its sha256, and loads it from there afterwards. A store that is down raises botocore's error.

The runtime is optional (the ``onnx`` extra): ``onnx_available`` says whether this process can
check and run a model, without importing it."""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib.util import find_spec
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from sebenzai.common.object_store import on_object_store

from .models import OnnxModel


class ModelFileUnreadable(Exception):
    """The stored file is missing, or no longer the one uploaded."""


def onnx_available() -> bool:
    return find_spec("onnxruntime") is not None and find_spec("onnx") is not None


def model_file_name(sha256: str) -> str:
    return f"models/{sha256}.onnx"


def model_file_path(sha256: str) -> Path:
    """The file on the local disk. Read at call time, so a test's MEDIA_ROOT is honoured."""
    return Path(settings.MEDIA_ROOT) / model_file_name(sha256)


def model_cache_dir() -> Path:
    """Where a runner keeps the models it fetched from the object store: local to its host (the
    temporary folder, so TMPDIR moves it), and safe to empty (a file is fetched again when
    missing or not what its name says)."""
    return Path(tempfile.gettempdir(), "sebenzai-models")


def model_file_write(*, content: bytes, sha256: str) -> bool:
    """Store the file unless it is there already; whether this call wrote it."""
    if on_object_store():
        if default_storage.exists(model_file_name(sha256)):
            return False
        default_storage.save(model_file_name(sha256), ContentFile(content))
        return True
    path = model_file_path(sha256)
    if path.is_file():
        return False
    _write_whole(path, content)
    return True


def _write_whole(path: Path, content: bytes) -> None:
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


def model_file_forget(*, sha256: str) -> None:
    """Delete the file unless a model row uses it (files are shared by content)."""
    if OnnxModel.objects.filter(sha256=sha256).exists():
        return
    if not on_object_store():
        model_file_path(sha256).unlink(missing_ok=True)
    else:
        default_storage.delete(model_file_name(sha256))


def model_file_read(*, sha256: str) -> bytes:
    """The model's bytes, checked against their digest: ModelFileUnreadable if they are missing
    or not the ones uploaded."""
    if on_object_store():
        return _fetched(sha256)
    try:
        content = model_file_path(sha256).read_bytes()
    except OSError as exc:
        raise ModelFileUnreadable("The stored model file cannot be read.") from exc
    _digest_check(content, sha256)
    return content


def _digest_check(content: bytes, sha256: str) -> None:
    if hashlib.sha256(content).hexdigest() != sha256:
        raise ModelFileUnreadable("The stored model file is not the one uploaded.")


def _fetched(sha256: str) -> bytes:
    """The model from this host's cache if it is intact there, else from the store: checked
    before it enters the cache, so a cached file is always the one uploaded."""
    path = model_cache_dir() / f"{sha256}.onnx"
    if path.is_file():
        content = path.read_bytes()
        if hashlib.sha256(content).hexdigest() == sha256:
            return content
    try:
        with default_storage.open(model_file_name(sha256), "rb") as handle:
            content = handle.read()
    except FileNotFoundError as exc:
        raise ModelFileUnreadable("The stored model file is missing.") from exc
    _digest_check(content, sha256)
    _write_whole(path, content)
    return content
