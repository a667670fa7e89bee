"""A folder export: each file written under the work folder's ``dataset/``, images hard-linked
from MEDIA_ROOT (copied where the filesystem will not link), or written from the object store."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from .image_files import file_sha256, open_regular
from .staged import StagedFile
from .staging import Staging

if TYPE_CHECKING:
    from .store_images import StoreImages

# Where a hard link is impossible (another filesystem, a filesystem without links), copy.
LINK_FALLBACK_ERRORS = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES, errno.ENOTSUP}


class FolderStaging(Staging):
    def __init__(
        self, work: Path, *, link_images: bool = True, store: StoreImages | None = None
    ) -> None:
        super().__init__(work, store=store)
        self.root = work / "dataset"
        self.root.mkdir()
        self._root = str(self.root)
        self._link = link_images
        self._manifest_size = 0

    def mkdir(self, rel: str) -> None:
        if rel not in self.dirs:
            (self.root / rel).mkdir(parents=True, exist_ok=True)
            super().mkdir(rel)

    def write_bytes(self, rel: str, data: bytes) -> None:
        self._parent(rel)
        with open(f"{self._root}/{rel}", "xb") as handle:
            handle.write(data)
        self.record(rel, hashlib.sha256(data).hexdigest(), len(data))

    def open(self, rel: str) -> StagedFile:
        self._parent(rel)
        sink = open(f"{self._root}/{rel}", "xb")  # noqa: SIM115 - closed by the StagedFile
        return self._staged(sink, lambda sha, size: self.record(rel, sha, size), _nothing)

    def open_manifest(self, rel: str) -> StagedFile:
        sink = open(f"{self._root}/{rel}", "xb")  # noqa: SIM115 - closed by the StagedFile

        def done(sha256: str, size: int) -> None:
            self.manifest_sha256, self._manifest_size = sha256, size

        return self._staged(sink, done, _nothing)

    def image(self, rel: str, source: str) -> None:
        if self.store is not None:
            self._parent(rel)
            digest, size = self.store.save(source, f"{self._root}/{rel}")
            self.record(rel, digest, size)
            self.images_copied += 1
            return
        fd, size = open_regular(source)
        try:
            digest = file_sha256(fd, size)
            self._parent(rel)
            self._place(fd, source, f"{self._root}/{rel}")
        finally:
            os.close(fd)
        self.record(rel, digest, size)
        self.images_copied += 1

    def _place(self, fd: int, source: str, target: str) -> None:
        if self._link:
            try:
                os.link(source, target, follow_symlinks=False)
                return
            except OSError as exc:
                if exc.errno not in LINK_FALLBACK_ERRORS:
                    raise
                self._link = False  # this filesystem will not link: stop trying
        os.lseek(fd, 0, os.SEEK_SET)
        with os.fdopen(os.dup(fd), "rb") as src, open(target, "xb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)

    def finish(self) -> tuple[Path, int]:
        self._drain()
        return self.root, self.bytes + self._manifest_size


def _nothing() -> None:
    pass
