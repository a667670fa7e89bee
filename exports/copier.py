"""A large zip export's images, copied into the zip by a child process on the machine's other core.

Reading an image is four system calls (open, fstat, pread, close), each of which lets go of the
GIL, and on return the export waits for it behind the threads that deflate its text: image copying
was a third of a COCO zip's time, most of it that wait. A thread cannot help (it would wait for
the same lock); a process can. The export reads a batch of tasks, sends the batch's images (the
name in the zip, the checked source path) to the child and, while the child copies them, reads the
next batch; then it writes the first batch's labels, taking each image's sha256 and size, or the
reason it is unavailable, from the child's reply, in order. So every task is decided exactly as
before: an unavailable image still skips its task before anything of it is written.

The child writes the zip's first entries (every image, in the export's order) to the zip file
and their central-directory records to the spool, with the same ``ZipWriter``, so the bytes are
those of the export copying them itself; the export takes the zip over where the child stopped.

The child is started with ``subprocess`` (fork and exec of this Python): no multiprocessing, which
a Celery prefork worker (a daemonic process) may not use to start children; no file descriptor of
the export's is inherited (``close_fds``), so no database connection crosses the fork; and it
imports this module and the standard library only, never Django. It ignores Ctrl-C (the export
decides), exits when its input closes (the export died) and is killed when the export fails or is
cancelled (``kill``). A child that fails takes the export with it: ``CopierFailed``, with the
child's last error line.
"""

from __future__ import annotations

import contextlib
import json
import queue
import signal
import struct
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Any, BinaryIO

from .archive import ZipWriter
from .image_files import ImageUnavailable, image_zip

ROOT = Path(__file__).resolve().parent.parent  # the folder that holds the exports package
CHILD = "import sys; sys.path.insert(0, sys.argv[1]); from exports.copier import serve; serve()"
FRAME = struct.Struct("<I")  # the length of the JSON message that follows
OUT_BUFFER = 1 << 18  # bytes: a write call per 2 KB image would be a syscall per image
END_TIMEOUT = 60  # seconds to wait for the child to exit once it has replied to the end


class CopierFailed(RuntimeError):
    """The child process stopped before the images were copied."""


class ImageCopier:
    """The parent's side: ``send`` a batch, ``result`` per image in the same order, ``finish``
    once every result was taken; ``kill`` whatever happens (safe to call twice)."""

    def __init__(self, *, zip_path: Path, central_path: Path, log_path: Path) -> None:
        self._log = open(log_path, "w+b")  # noqa: SIM115 - closed in kill(); the child's stderr
        command = [sys.executable, "-c", CHILD, str(ROOT), str(zip_path), str(central_path)]
        try:
            self._child = subprocess.Popen(  # noqa: S603 - this Python, our own module
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                close_fds=True,
            )
        except OSError:
            self._log.close()
            raise
        self._sent: deque[str] = deque()  # names sent whose results were not taken yet
        self._results: deque[tuple[str | None, Any]] = deque()

    def send(self, images: list[tuple[str, str]]) -> None:
        """Queue (name in the zip, source path) pairs to be copied, in this order."""
        self._write(images)
        self._sent.extend(rel for rel, _ in images)

    def result(self, rel: str) -> tuple[str, int]:
        """The sha256 and size of the next image sent, which must be ``rel``; ImageUnavailable
        when the child found it missing or unsafe (nothing of it is in the zip)."""
        if not self._sent:
            raise RuntimeError(f"image {rel} was not sent to the copier")
        if not self._results:
            self._results.extend(self._read())
        expected = self._sent.popleft()
        digest, size = self._results.popleft()
        if expected != rel:
            raise RuntimeError(f"image {rel} asked for out of order (the copier has {expected})")
        if digest is None:
            raise ImageUnavailable(size)
        return digest, size

    def finish(self) -> tuple[int, int]:
        """End the child once every result was taken; return the zip's length so far and the
        number of entries it wrote."""
        if self._sent:
            raise RuntimeError(f"{len(self._sent)} images were copied but not exported")
        self._write(None)
        position, count = self._read()
        try:
            code = self._child.wait(timeout=END_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise CopierFailed("the image copier did not exit") from exc
        if code:
            raise CopierFailed(f"the image copier exited with {code}: {self._last_error()}")
        self.kill()
        return position, count

    def kill(self) -> None:
        """Stop the child (if it still runs) and release its pipes."""
        if self._child.poll() is None:
            self._child.kill()
            self._child.wait()
        for stream in (self._child.stdin, self._child.stdout, self._log):
            # A pipe the dead child left unread has nothing to flush to.
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]

    def _write(self, message: Any) -> None:
        try:
            _frame_write(self._child.stdin, message)  # type: ignore[arg-type]
        except (BrokenPipeError, ValueError) as exc:
            raise CopierFailed(f"the image copier stopped: {self._last_error()}") from exc

    def _read(self) -> Any:
        message = _frame_read(self._child.stdout)  # type: ignore[arg-type]
        if message is _END_OF_INPUT:
            self._child.wait()
            raise CopierFailed(f"the image copier stopped: {self._last_error()}")
        return message

    def _last_error(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no message"


_END_OF_INPUT = object()


def _frame_write(stream: BinaryIO, message: Any) -> None:
    # JSON, not pickle: the messages are names, paths, digests and numbers, and nothing that
    # reads a pipe should be able to run code (tests/hardening/test_deploy.py).
    data = json.dumps(message, separators=(",", ":")).encode()
    stream.write(FRAME.pack(len(data)) + data)
    stream.flush()


def _frame_read(stream: BinaryIO) -> Any:
    head = stream.read(FRAME.size)
    if len(head) < FRAME.size:
        return _END_OF_INPUT
    return json.loads(stream.read(FRAME.unpack(head)[0]))


def serve() -> None:
    """The child: ``python -c CHILD <root> <zip> <central>``. Copies each batch it is sent into
    the zip and replies with each image's (sha256, size) or (None, reason); at the end (None
    sent) replies with the zip's length and entry count. Exits 1 if its input closes first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    zip_path, central_path = sys.argv[2], sys.argv[3]
    requests: queue.SimpleQueue[Any] = queue.SimpleQueue()
    # Read on a thread: the export may be sending the next batch while this one replies, and
    # neither pipe must fill up with both sides writing.
    reader = threading.Thread(target=_requests_read, args=(sys.stdin.buffer, requests))
    reader.daemon = True
    reader.start()
    replies = sys.stdout.buffer
    with (
        open(zip_path, "r+b", buffering=OUT_BUFFER) as out,
        open(central_path, "r+b", buffering=OUT_BUFFER) as central,
    ):
        writer = ZipWriter(out, central)
        while (batch := requests.get()) is not None:
            if batch is _END_OF_INPUT:
                sys.exit(1)
            _frame_write(replies, [_copy(writer, rel, source) for rel, source in batch])
    _frame_write(replies, (writer.position, writer.count))


def _requests_read(stream: BinaryIO, into: queue.SimpleQueue[Any]) -> None:
    while True:
        message = _frame_read(stream)
        into.put(message)
        if message is None or message is _END_OF_INPUT:
            return


def _copy(writer: ZipWriter, rel: str, source: str) -> tuple[str | None, Any]:
    try:
        return image_zip(writer, rel, source)
    except ImageUnavailable as exc:
        return None, exc.reason
