"""One worker thread that runs calls in the order they were given, with a bounded backlog.

A staged file's blocks are hashed, checksummed, deflated and written on one, while the export
goes on reading rows: hashlib, zlib and file writes release the GIL on large blocks, so this
work runs beside the Python that builds the labels instead of after it. Pure Python, no Django.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

BACKLOG = 4  # calls queued or running; with blocks of TEXT_BUFFER, memory stays bounded


class Lane:
    """Calls run one at a time, in order. The thread starts with the first call; ``join``
    waits for every call and re-raises the first error; ``abandon`` drops what has not run."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future[Any]] = deque()

    @property
    def idle(self) -> bool:
        """Nothing was ever submitted (or all was abandoned): no thread is running."""
        return self._pool is None

    def submit(self, call: Callable[..., Any], *args: Any) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-lane")
        self._pending.append(self._pool.submit(call, *args))
        if len(self._pending) > BACKLOG:  # the writer waits rather than queue without bound
            self._pending.popleft().result()

    def join(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self.abandon()

    def abandon(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()
