"""An export's images read from the object store instead of MEDIA_ROOT.

``StoreIndex`` accepts the same canonical names ``MediaIndex`` does (``images/<2 hex>/<sha256>.
<ext>`` for the task's own content and format) and returns the storage name; anything else is
skipped as an unsafe reference, as on the disk.

Each image is a GET, a few milliseconds away rather than the disk's microseconds, so
``StoreImages`` fetches the next images on a few threads while the export writes the current one:
``rows`` announces the names of the rows ahead (in the export's order), each ``take`` waits for its
own. At most WINDOW fetches are in flight or held, and an object larger than IN_MEMORY is spooled
to a file in the work folder, so memory stays under WINDOW × IN_MEMORY whatever the project.
A missing object is ``ImageUnavailable("missing_image")``, as a missing file is; any other error
(a store that is down) goes up and fails the export's attempt.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from types import TracebackType

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from sebenzai.common.object_store import object_missing

from .image_files import ImageUnavailable, ZipOut
from .media import MediaIndex
from .selectors import TaskRow
from .store import store_bucket, store_client, store_key

THREADS = 8  # GETs at once: enough to hide a round trip per image behind the export's work
WINDOW = 32  # images fetched ahead (in flight or held)
ANNOUNCE = 64  # rows read ahead of the export to learn the next names
IN_MEMORY = 1 << 20  # bytes: a larger object goes to a file in the work folder
COPY_BLOCK = 1 << 20
Fetched = bytes | tuple[str, str, int]  # the bytes, or a spooled file: (path, sha256, size)


class StoreIndex(MediaIndex):
    """``MediaIndex``'s checks on the name, without its folder: the storage name to read."""

    def __init__(self) -> None:
        super().__init__("")

    def source(self, *, image: str, sha256: str, image_format: str) -> str | None:
        canonical = super().source(image=image, sha256=sha256, image_format=image_format)
        return image if canonical is not None else None

    def _shard_ok(self, shard: str) -> bool:
        return True  # a key has no folder that could be a link elsewhere


class StoreImages:
    """Images of one export, fetched ahead in the export's order. Used on one thread (the
    export's); only the fetches run on the pool."""

    def __init__(self, *, work: Path) -> None:
        self.index = StoreIndex()
        self._client, self._bucket = store_client(), store_bucket()
        self._spool = work
        self._spooled = itertools.count(1)  # next() is atomic: the pool's threads share it
        self._pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="export-fetch")
        self._queue: deque[str] = deque()  # names announced, not taken; the first _submitted
        self._queued: set[str] = set()  # of them have a future in _futures
        self._futures: dict[str, Future[Fetched]] = {}
        self._submitted = 0

    def rows(self, rows: Iterable[TaskRow]) -> Iterator[TaskRow]:
        """The same rows, in order, the names of the next ones announced before they are
        reached."""
        rows = iter(rows)
        held: list[TaskRow] = []
        while batch := list(islice(rows, ANNOUNCE)):
            self._announce(batch)
            yield from held
            held = batch
        yield from held

    def _announce(self, batch: list[TaskRow]) -> None:
        for row in batch:
            name = self.index.source(
                image=row.image, sha256=row.sha256, image_format=row.image_format
            )
            if name is not None and name not in self._queued:
                self._queue.append(name)
                self._queued.add(name)
        self._fill()

    def _fill(self) -> None:
        while self._submitted < min(len(self._queue), WINDOW):
            name = self._queue[self._submitted]
            self._futures[name] = self._pool.submit(self._fetch, name)
            self._submitted += 1

    def _take(self, name: str) -> Fetched:
        """The fetched object; names announced before it and not taken (their rows were
        skipped) are dropped."""
        future = None
        while name in self._queued:
            head = self._queue.popleft()
            self._queued.discard(head)
            if self._submitted:
                self._submitted -= 1
            future = self._futures.pop(head, None)
            if head != name and future is not None:
                future.cancel()
        self._fill()
        return future.result() if future is not None else self._fetch(name)

    def _fetch(self, name: str) -> Fetched:  # on the pool (or the export's thread)
        try:
            got = self._client.get_object(Bucket=self._bucket, Key=store_key(name))
        except ClientError as exc:
            if object_missing(exc):
                raise ImageUnavailable("missing_image") from exc
            raise
        body, size = got["Body"], int(got["ContentLength"])
        if size <= IN_MEMORY:
            data: bytes = body.read()
            return data
        path = str(self._spool / f"image-{next(self._spooled)}")
        digest = hashlib.sha256()
        with open(path, "xb") as out:
            while block := body.read(COPY_BLOCK):
                digest.update(block)
                out.write(block)
        return path, digest.hexdigest(), size

    def zip(self, out: ZipOut, rel: str, name: str) -> tuple[str, int]:
        """Add the object to the zip as ``rel``, as ``image_files.image_zip`` adds a file (the
        same entry bytes); return its sha256 and size."""
        fetched = self._take(name)
        if isinstance(fetched, bytes):
            out.add_bytes(rel, fetched)
            return hashlib.sha256(fetched).hexdigest(), len(fetched)
        path, digest, size = fetched
        try:
            out.add_file(rel, path)
        finally:
            os.unlink(path)
        return digest, size

    def read(self, name: str) -> bytes:
        """The object's bytes (an image to re-encode: read whole, as from the disk)."""
        fetched = self._take(name)
        if isinstance(fetched, bytes):
            return fetched
        path = fetched[0]
        try:
            return Path(path).read_bytes()
        finally:
            os.unlink(path)

    def save(self, name: str, target: str) -> tuple[str, int]:
        """Write the object to the new file ``target``; return its sha256 and size."""
        fetched = self._take(name)
        if isinstance(fetched, bytes):
            with open(target, "xb") as out:
                out.write(fetched)
            return hashlib.sha256(fetched).hexdigest(), len(fetched)
        path, digest, size = fetched
        shutil.move(path, target)
        return digest, size

    def close(self) -> None:
        """Stop fetching; spooled files go with the work folder."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._futures.clear()
        self._queue.clear()
        self._queued.clear()
        self._submitted = 0

    def __enter__(self) -> StoreImages:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
