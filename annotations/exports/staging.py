"""Where an export's files go while it is written: a hidden folder, or a zip being written.

Every file goes through here, so that its sha256 and size are recorded as it is written (the
manifest lists them in that order) and images are copied byte for byte, never decoded. A folder
export hard-links its images (copying where the filesystem will not link). A zip export writes
each file straight into the zip — no file is created per image or label, which on a busy disk
is most of the cost — and files written in pieces (a COCO JSON, labels.csv) are spooled to the
work folder and added when they are closed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from .archive import IN_MEMORY, ZipWriter

TEXT_BUFFER = 1 << 16
# Where a hard link is impossible (another filesystem, a filesystem without links), copy.
LINK_FALLBACK_ERRORS = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES, errno.ENOTSUP}


class ImageUnavailable(Exception):
    """A task's image cannot be exported (missing, not a regular file, a symlink)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StagedFile:
    """A file written in pieces; text is buffered and hashed in blocks. ``done`` is called with
    its sha256 and size when it is closed."""

    def __init__(self, path: str, done: Callable[[str, int], None]) -> None:
        self._file = open(path, "xb")  # noqa: SIM115 - closed in close()
        self._done = done
        self._hash = hashlib.sha256()
        self._size = 0
        self._pending: list[str] = []
        self._pending_len = 0

    def write(self, text: str) -> None:
        self._pending.append(text)
        self._pending_len += len(text)
        if self._pending_len >= TEXT_BUFFER:
            self._flush()

    def write_bytes(self, data: bytes) -> None:
        self._flush()
        self._put(data)

    def _flush(self) -> None:
        if self._pending:
            self._put("".join(self._pending).encode())
            self._pending.clear()
            self._pending_len = 0

    def _put(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self._size += len(data)

    def close(self) -> None:
        self._flush()
        self._file.close()
        self._done(self._hash.hexdigest(), self._size)

    def __enter__(self) -> StagedFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self._file.close()


class Staging:
    """What the writers see; ``FolderStaging`` and ``ZipStaging`` put the files somewhere."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.ledger = work / "files.tsv"
        self._ledger = open(self.ledger, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.dirs: set[str] = set()
        self.bytes = 0

    def record(self, rel: str, sha256: str, size: int) -> None:
        self._ledger.write(f"{rel}\t{sha256}\t{size}\n")
        self.bytes += size

    def mkdir(self, rel: str) -> None:
        """A folder (and its parents), made once; listed in a zip even when empty."""
        if rel not in self.dirs:
            parts = rel.split("/")
            self.dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))

    def _parent(self, rel: str) -> None:
        parent = rel.rpartition("/")[0]
        if parent and parent not in self.dirs:
            self.mkdir(parent)

    def write(self, rel: str, text: str) -> None:
        """A small file in one go."""
        raise NotImplementedError

    def open(self, rel: str) -> StagedFile:
        """A file written in pieces; recorded when closed."""
        raise NotImplementedError

    def image(self, rel: str, source: str) -> None:
        """Add an image file byte for byte, hashing it. The source is opened without following
        a symlink and must be a regular file; else ImageUnavailable."""
        raise NotImplementedError

    def close(self) -> None:
        """Every file is written: finish the ledger (the manifest is written from it)."""
        self._ledger.close()

    def finish(self, manifest: Path) -> tuple[Path, int]:
        """Add the manifest; return what to move into place and its size in bytes."""
        raise NotImplementedError


class FolderStaging(Staging):
    def __init__(self, work: Path, *, link_images: bool = True) -> None:
        super().__init__(work)
        self.root = work / "dataset"
        self.root.mkdir()
        self._root = str(self.root)
        self._link = link_images

    def mkdir(self, rel: str) -> None:
        if rel not in self.dirs:
            (self.root / rel).mkdir(parents=True, exist_ok=True)
            super().mkdir(rel)

    def write(self, rel: str, text: str) -> None:
        self._parent(rel)
        data = text.encode()
        with open(f"{self._root}/{rel}", "xb") as handle:
            handle.write(data)
        self.record(rel, hashlib.sha256(data).hexdigest(), len(data))

    def open(self, rel: str) -> StagedFile:
        self._parent(rel)
        return StagedFile(f"{self._root}/{rel}", lambda sha, size: self.record(rel, sha, size))

    def image(self, rel: str, source: str) -> None:
        fd, size = _open_regular(source)
        try:
            digest = _digest(fd, size)
            self._parent(rel)
            self._place(fd, source, f"{self._root}/{rel}")
        finally:
            os.close(fd)
        self.record(rel, digest, size)

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

    def finish(self, manifest: Path) -> tuple[Path, int]:
        return self.root, self.bytes + manifest.stat().st_size


class ZipStaging(Staging):
    def __init__(self, work: Path) -> None:
        super().__init__(work)
        self.path = work / "dataset.zip"
        self._out = open(self.path, "wb")  # noqa: SIM115 - closed in finish()
        self._central = open(work / "central.bin", "w+b")  # noqa: SIM115
        self._zip = ZipWriter(self._out, self._central)
        self._spools = 0

    def write(self, rel: str, text: str) -> None:
        self._parent(rel)
        data = text.encode()
        self._zip.add_bytes(rel, data)
        self.record(rel, hashlib.sha256(data).hexdigest(), len(data))

    def open(self, rel: str) -> StagedFile:
        self._parent(rel)
        self._spools += 1
        spool = self.work / f"spool-{self._spools}"

        def done(sha256: str, size: int) -> None:
            self._zip.add_file(rel, spool)
            spool.unlink()
            self.record(rel, sha256, size)

        return StagedFile(str(spool), done)

    def image(self, rel: str, source: str) -> None:
        fd, size = _open_regular(source)
        try:
            if size <= IN_MEMORY:  # one read gives the hash, the CRC and the zip's bytes
                data = os.pread(fd, size, 0)
                digest = hashlib.sha256(data).hexdigest()
                self._parent(rel)
                self._zip.add_bytes(rel, data)
            else:
                digest = _digest(fd, size)
                self._parent(rel)
                self._zip.add_file(rel, source)
        finally:
            os.close(fd)
        self.record(rel, digest, size)

    def finish(self, manifest: Path) -> tuple[Path, int]:
        for rel in sorted(self.dirs):
            self._zip.add_dir(rel)
        self._zip.add_file(manifest.name, manifest)
        self._zip.close()
        self._central.close()
        self._out.flush()
        os.fsync(self._out.fileno())  # the bytes are on disk before the rename publishes them
        size = self._out.tell()
        self._out.close()
        return self.path, size


def _open_regular(source: str) -> tuple[int, int]:
    """An open descriptor on the image and its size."""
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


def _digest(fd: int, size: int) -> str:
    if size <= IN_MEMORY:  # one read: most images, and far fewer calls than file_digest
        return hashlib.sha256(os.pread(fd, size, 0)).hexdigest()
    with os.fdopen(os.dup(fd), "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
