"""Where an export's files go while it is written: a hidden folder, or a zip being written.

Every file goes through here, so that its sha256 and size are recorded as it is written (the
manifest lists them in that order) and images are copied byte for byte, never decoded — except
where a format's readers accept only one encoding (VOC: ``image_converted``). A folder
export hard-links its images (copying where the filesystem will not link). A zip export writes
each file straight into the zip — no file is created per image or label, which on a busy disk
is most of the cost — and files written in pieces (a COCO JSON, labels.csv) are deflated on a
worker lane as they are written and added to the zip once complete, in the order they were
closed (``StagedFile``). A large zip's images are copied by a child process instead, on the
other core, a batch ahead of the export (``copier``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from .archive import EntryBody, ZipWriter
from .copier import ImageCopier
from .image_files import ImageUnavailable, image_zip, open_regular
from .staged import Sink, StagedFile

if TYPE_CHECKING:
    from .store_images import StoreImages

__all__ = ["ImageUnavailable", "Staging", "ZipStaging"]

logger = logging.getLogger(__name__)
OUT_BUFFER = 1 << 18  # bytes: a write call per 2 KB image would be a syscall per image
HASH_BLOCK = 1 << 20


class Staging:
    """What the writers see; ``ZipStaging`` (and ``folder_staging.FolderStaging``) put the
    files somewhere.

    A staged file is listed when it is closed; what must wait for its bytes (its place in the
    zip) waits in ``_closing``, in order, until ``_drain``. Used as a context manager, so that a
    failed export stops its worker lanes before its work folder is removed.

    Images are files under MEDIA_ROOT, or with ``store`` objects of the object store."""

    def __init__(self, work: Path, *, store: StoreImages | None = None) -> None:
        self.work = work
        self.store = store
        self.ledger = work / "files.tsv"
        self._ledger = open(self.ledger, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.dirs: set[str] = set()
        self.bytes = 0
        self.images_copied = 0
        self.images_converted = 0
        self.manifest_sha256 = ""
        self._open: set[StagedFile] = set()  # not yet complete
        self._closing: deque[tuple[StagedFile | None, Callable[[], None]]] = deque()

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.discard()

    def discard(self) -> None:
        """Stop whatever is still being written; nothing to do after a finished export."""
        for staged in list(self._open):
            staged.abandon()
        self._open.clear()
        self._closing.clear()
        self._ledger.close()
        if self.store is not None:
            self.store.close()

    def _staged(
        self, sink: Sink, done: Callable[[str, int], None], then: Callable[[], None]
    ) -> StagedFile:
        """A staged file: ``done`` when it is closed, ``then`` once its bytes are all in."""

        def closed(sha256: str, size: int) -> None:
            done(sha256, size)
            self._closing.append((staged, then))

        staged = StagedFile(sink, closed)
        self._open.add(staged)
        return staged

    def _drain(self) -> None:
        """Complete the closed files, in the order they were closed."""
        while self._closing:
            staged, then = self._closing.popleft()
            if staged is not None:
                staged.complete()
                self._open.discard(staged)
            then()

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
        """A small text file in one go."""
        self.write_bytes(rel, text.encode())

    def write_bytes(self, rel: str, data: bytes) -> None:
        """A small file in one go."""
        raise NotImplementedError

    def open(self, rel: str) -> StagedFile:
        """A file written in pieces; recorded when closed."""
        raise NotImplementedError

    def image(self, rel: str, source: str) -> None:
        """Add an image file byte for byte, hashing it. The source is opened without following
        a symlink and must be a regular file; else ImageUnavailable."""
        raise NotImplementedError

    def image_converted(self, rel: str, source: str, convert: Callable[[bytes], bytes]) -> None:
        """Add ``convert`` of the image's bytes, read as ``image`` reads them (no symlink, a
        regular file, else ImageUnavailable). ``convert`` raises ImageUnavailable on bytes it
        cannot read; the export skips that task and counts it."""
        if self.store is not None:
            data = self.store.read(source)
        else:
            fd, size = open_regular(source)
            try:
                data = os.pread(fd, size, 0)
            finally:
                os.close(fd)
        self.write_bytes(rel, convert(data))
        self.images_converted += 1

    def images_ahead(self) -> bool:
        """Have the images copied by a child process from now on, sent ahead with
        ``images_send``; False when this staging does not (a folder's images are linked)."""
        return False

    def images_send(self, images: list[tuple[str, str]]) -> None:
        """The (name, source) of the images that ``image`` will be asked for next, in order."""
        raise NotImplementedError

    def close(self) -> None:
        """Every file is written: finish the ledger (the manifest is written from it)."""
        self._ledger.close()

    def open_manifest(self, rel: str) -> StagedFile:
        """The manifest, written after ``close`` from the ledger and so not listed in it; its
        sha256 is ``manifest_sha256`` once it is closed."""
        raise NotImplementedError

    def finish(self) -> tuple[Path, int]:
        """Complete every file; return what to move into place and its size in bytes."""
        raise NotImplementedError


class ZipStaging(Staging):
    """Entries go into the zip in the order their files were closed (images: at once); a file
    still being deflated holds back those closed after it, which wait in ``_closing``."""

    def __init__(self, work: Path, *, store: StoreImages | None = None) -> None:
        super().__init__(work, store=store)
        self.path = work / "dataset.zip"
        self._out = self._out_open()
        self._central = open(work / "central.bin", "w+b", buffering=OUT_BUFFER)  # noqa: SIM115
        self._zip = ZipWriter(self._out, self._central)
        self._copier: ImageCopier | None = None
        self._spools = 0
        self.sha256 = ""  # of the finished zip

    def _out_open(self) -> BinaryIO:
        """Where the zip's bytes go: a file in the work folder."""
        # A large buffer: images come in 2 KB pieces, and a write call each is a syscall each.
        return open(self.path, "wb", buffering=OUT_BUFFER)  # noqa: SIM115 - closed in finish()

    def write_bytes(self, rel: str, data: bytes) -> None:
        if self._copier is not None:  # it would land among the images, out of order
            raise RuntimeError(f"{rel} written while the images are copied ahead")
        self._drain()
        self._parent(rel)
        self._zip.add_bytes(rel, data)
        self.record(rel, hashlib.sha256(data).hexdigest(), len(data))

    def open(self, rel: str) -> StagedFile:
        self._parent(rel)
        body = self._body(rel)
        return self._staged(
            body, lambda sha, size: self.record(rel, sha, size), lambda: self._add(rel, body)
        )

    def open_manifest(self, rel: str) -> StagedFile:
        body = self._body(rel)

        def done(sha256: str, size: int) -> None:
            self.manifest_sha256 = sha256

        return self._staged(body, done, lambda: self._add(rel, body))

    def _body(self, rel: str) -> EntryBody:
        self._spools += 1
        return EntryBody(rel, str(self.work / f"spool-{self._spools}"))

    def _add(self, rel: str, body: EntryBody) -> None:
        self._zip.add_body(rel, body)
        Path(body.path).unlink(missing_ok=True)
        Path(body.raw).unlink(missing_ok=True)

    def image(self, rel: str, source: str) -> None:
        if self._copier is not None:  # in the zip already, or ImageUnavailable
            digest, size = self._copier.result(rel)
        elif self.store is not None:
            self._drain()
            digest, size = self.store.zip(self._zip, rel, source)
        else:
            self._drain()
            digest, size = image_zip(self._zip, rel, source)
        self._parent(rel)
        self.record(rel, digest, size)
        self.images_copied += 1

    def images_ahead(self) -> bool:
        """From now until ``close``, images are copied by a child process (``copier``), sent
        ahead with ``images_send``; True when it could be started. Only into an empty zip, and
        only for a writer whose tasks add nothing but their image to the zip (``images_only``):
        anything else added before ``close`` would land among the images."""
        if self._zip.position or self._zip.count or self._copier is not None:
            raise RuntimeError("images can be copied ahead only into an empty zip")
        if self.store is not None:  # the child reads files; objects are fetched ahead here
            return False
        self._out.flush()
        self._central.flush()
        try:
            self._copier = ImageCopier(
                zip_path=self.path,
                central_path=self.work / "central.bin",
                log_path=self.work / "copier.log",
            )
        except OSError:  # no Python to start (an embedded interpreter): copy them here
            logger.warning("export: the image copier could not start", exc_info=True)
            return False
        return True

    def images_send(self, images: list[tuple[str, str]]) -> None:
        self._copier.send(images)  # type: ignore[union-attr]

    def _images_end(self) -> None:
        """The child is done: the zip goes on where it stopped."""
        position, count = self._copier.finish()  # type: ignore[union-attr]
        self._copier = None
        self._out.seek(position)
        self._central.seek(0, os.SEEK_END)
        self._zip = ZipWriter(self._out, self._central, count)

    def close(self) -> None:
        super().close()
        if self._copier is not None:
            self._images_end()
        # The folders go after every listed file and before the manifest, as they always have.
        self._closing.append((None, self._add_dirs))

    def _add_dirs(self) -> None:
        for rel in sorted(self.dirs):
            self._zip.add_dir(rel)

    def discard(self) -> None:
        super().discard()
        if self._copier is not None:
            self._copier.kill()
            self._copier = None
        self._central.close()
        self._out.close()

    def finish(self) -> tuple[Path, int]:
        """Also sets ``sha256``, of the zip."""
        self._out.flush()
        with open(self.path, "rb") as written:
            digest = hashlib.sha256()
            # The zip so far (its images) is hashed while the last files are still being
            # deflated on their lanes, rather than read back once it is finished.
            hashed = _hash_range(written, digest, 0, self._zip.position)
            self._drain()
            self._zip.close()
            self._central.close()
            self._out.flush()
            os.fsync(self._out.fileno())  # the bytes are on disk before the rename publishes them
            size = self._out.tell()
            self._out.close()
            _hash_range(written, digest, hashed, size)
        self.sha256 = digest.hexdigest()
        return self.path, size


def _nothing() -> None:  # a staged file with nothing to do once complete
    pass


def _hash_range(source: BinaryIO, digest: Any, start: int, end: int) -> int:
    """Add the bytes ``start:end`` of ``source`` to ``digest``; return ``end``."""
    source.seek(start)
    left = end - start
    while left > 0:
        block = source.read(min(left, HASH_BLOCK))
        if not block:
            raise OSError(f"{source.name} is shorter than {end} bytes")
        digest.update(block)
        left -= len(block)
    return end
