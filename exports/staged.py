"""A file of an export written in pieces (a COCO JSON, labels.csv, the manifest), hashed as it is
written and handed to its sink — the file itself, or a zip entry's body that deflates it — on a
worker lane.

The hash is taken here, on the writer's thread (it is cheap), so the file can be listed as soon as
it is closed; the slow part, deflating, goes on behind: beside the export's work on rows while the
file is written, and beside the manifest's writing after it is closed (``complete`` waits for it).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from .lane import Lane

# Characters: text goes to the lane in blocks this size. Each block wakes the lane's thread, which
# then takes the GIL back from the export a few times; larger blocks mean fewer of those
# hand-offs (each costs the export a wait, long on a busy machine) for 4 MB more memory.
TEXT_BUFFER = 1 << 18
COPY_BLOCK = 1 << 18


class Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...

    def close(self) -> None: ...


class StagedFile:
    """Text (or bytes) in; ``done`` is called with the sha256 and size when it is closed. The
    sink has every byte once ``complete`` returns."""

    def __init__(self, sink: Sink, done: Callable[[str, int], None]) -> None:
        self._sink = sink
        self._done = done
        self._hash = hashlib.sha256()
        self._size = 0
        self._pending: list[str] = []
        self._pending_len = 0
        self._lane = Lane()
        self._abandoned = False

    def write(self, text: str) -> None:
        self._pending.append(text)
        self._pending_len += len(text)
        if self._pending_len >= TEXT_BUFFER:
            self._send(self._take())

    def write_bytes(self, data: bytes) -> None:
        self._send(self._take() + data)

    def append_file(self, path: str) -> None:
        """Add the bytes of the file at ``path``: copied on the lane while it is hashed here (the
        lane's deflating, not the hash, is what the end of an export waits for), so the file
        must stay as it is until ``complete``."""
        self._send(self._take())
        self._lane.submit(self._copy, path)
        with open(path, "rb") as source:
            while block := source.read(COPY_BLOCK):
                self._digest(block)

    def _take(self) -> bytes:
        data = "".join(self._pending).encode()
        self._pending.clear()
        self._pending_len = 0
        return data

    def _digest(self, data: bytes) -> None:
        self._hash.update(data)
        self._size += len(data)

    def _send(self, data: bytes) -> None:
        self._digest(data)
        self._lane.submit(self._sink.write, data)

    def _copy(self, path: str) -> None:  # on the lane
        with open(path, "rb") as source:
            while block := source.read(COPY_BLOCK):
                self._sink.write(block)

    def close(self) -> None:
        """No more writes: the file is listed now (``done``); its bytes may still be on their
        way to the sink."""
        if self._lane.idle:  # a small file, written whole: no thread for it
            data = self._take()
            self._digest(data)
            self._sink.write(data)
        else:
            self._send(self._take())
        self._done(self._hash.hexdigest(), self._size)

    def complete(self) -> None:
        """Wait until the sink has every byte, and close it; re-raises the lane's error."""
        self._lane.join()
        self._sink.close()

    def abandon(self) -> None:
        """Stop without finishing: the export failed and its work folder goes."""
        if self._abandoned:
            return
        self._abandoned = True
        self._lane.abandon()
        with contextlib.suppress(OSError):
            self._sink.close()

    def __enter__(self) -> StagedFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abandon()
