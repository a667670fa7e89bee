"""A zip written front to back, byte for byte the same for the same files in the same order.

Why not ``zipfile.ZipFile``: it keeps a ZipInfo per entry in memory until it writes the central
directory (about 85 MB for 200,000 entries, measured here), and an export's memory must not grow
with the project. This writer spools the central directory to a file instead. Timestamps are
fixed (1980-01-01 00:00), modes fixed (0644 files, 0755 folders), so nothing of the run leaks
into the bytes. Zip64 records are written when sizes, offsets or the entry count need them.
Images are stored (already compressed), as are files under 256 bytes; everything else is
deflated at level 6, with a window and memory level sized to the file (a fixed rule, so still
deterministic): setting up a full 32 KB window costs ~150 µs, which for 100,000 small label
files was most of the time of a zip.

A large file written in pieces can be packed as it is written (``EntryBody``, fed from a worker
thread by the staging) and added once complete: zlib's output does not depend on how its input is
cut (no flush until the end), so the bytes are those of packing the whole file at once.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO

LOCAL = struct.Struct("<4s2B4HL2L2H")
CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
END = struct.Struct("<4s4H2LH")
END64 = struct.Struct("<4sQ2H2L4Q")
LOCATOR64 = struct.Struct("<4sLQL")
ZIP64_LIMIT = (1 << 31) - 1
COUNT_LIMIT = (1 << 16) - 1
IN_MEMORY = 8 << 20  # files up to this size are read whole; larger ones are streamed
DOS_TIME, DOS_DATE = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00:00
STORED, DEFLATED = 0, 8
FILE_MODE, DIR_MODE = 0o100644 << 16, (0o40755 << 16) | 0x10
STORED_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".zip")
TINY = 256  # bytes: stored, deflating would hardly shrink them
SMALL = 1 << 15  # bytes: below this a file is deflated with a window sized to it
STREAM_FROM = 1 << 20  # bytes: an EntryBody this large is packed as it is written


class ZipWriter:
    def __init__(self, out: BinaryIO, spool: BinaryIO, count: int = 0) -> None:
        """Entries are written from ``out``'s position on, their central records appended to
        ``spool``, which holds ``count`` records already (those of the entries before)."""
        self._out, self._spool = out, spool
        self._count = count
        self._pos = out.tell()  # kept here: a tell() per entry is a syscall per entry

    @property
    def count(self) -> int:
        """Entries so far, with those ``spool`` held at the start."""
        return self._count

    @property
    def position(self) -> int:
        """Bytes written so far; every one of them final (a header is only ever rewritten
        within the call that adds its entry)."""
        return self._pos

    def add_dir(self, name: str) -> None:
        self._entry(name.rstrip("/") + "/", b"", STORED, DIR_MODE)

    def add_bytes(self, name: str, data: bytes) -> None:
        self._entry(name, data, _method(name, len(data)), FILE_MODE)

    def add_file(self, name: str, path: str | os.PathLike[str]) -> None:
        """Add a file from disk (opened without following a symlink)."""
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            size = os.fstat(fd).st_size
            if size <= IN_MEMORY:
                self._entry(name, handle.read(), _method(name, size), FILE_MODE)
            else:
                self._stream(name, handle, size, _method(name, size))

    def add_body(self, name: str, body: EntryBody) -> None:
        """Add a file packed as it was written; ``body`` is closed."""
        if not body.streamed:  # kept as written: packed now, as any file
            self.add_file(name, body.raw)
            return
        offset = self._pos
        header = _local(
            name, body.method, body.crc, body.csize, body.size, body.size >= ZIP64_LIMIT
        )
        self._out.write(header)
        with open(body.path, "rb") as packed:
            shutil.copyfileobj(packed, self._out, 1 << 20)
        self._pos += len(header) + body.csize
        self._central(name, body.method, body.crc, body.csize, body.size, offset, FILE_MODE)

    def _entry(self, name: str, data: bytes, method: int, mode: int) -> None:
        crc = zlib.crc32(data)
        body = _deflate(data) if method == DEFLATED else data
        if max(self._pos, len(data), len(body)) < ZIP64_LIMIT:
            self._small_entry(name, body, method, mode, crc, len(data))
            return
        offset = self._pos
        zip64 = len(data) >= ZIP64_LIMIT
        header = _local(name, method, crc, len(body), len(data), zip64)
        self._out.write(header)
        self._out.write(body)
        self._pos += len(header) + len(body)
        self._central(name, method, crc, len(body), len(data), offset, mode)

    def _small_entry(
        self, name: str, body: bytes, method: int, mode: int, crc: int, size: int
    ) -> None:
        """``_entry`` without zip64 (the records of _local and _central with no extra field),
        written out: it runs once per image and label file."""
        encoded, flags = _name(name)
        csize, offset = len(body), self._pos
        header = LOCAL.pack(
            b"PK\x03\x04", 20, 0, flags, method, DOS_TIME, DOS_DATE, crc, csize, size,
            len(encoded), 0,
        )  # fmt: skip
        self._out.write(header + encoded)
        self._out.write(body)
        self._pos += len(header) + len(encoded) + csize
        central = CENTRAL.pack(
            b"PK\x01\x02", 20, 3, 20, 0, flags, method, DOS_TIME, DOS_DATE, crc, csize, size,
            len(encoded), 0, 0, 0, 0, mode, offset,
        )  # fmt: skip
        self._spool.write(central + encoded)
        self._count += 1

    def _stream(self, name: str, handle: BinaryIO, size: int, method: int) -> None:
        offset = self._pos
        zip64 = size >= ZIP64_LIMIT
        if self._out.seekable():
            self._out.write(_local(name, method, 0, 0, 0, zip64))
            crc, written = _pack(handle, method, self._out.write)
            end = self._out.tell()
            self._out.seek(offset)  # the sizes are known now: rewrite the header in place
            self._out.write(_local(name, method, crc, written, size, zip64))
            self._out.seek(end)
        else:
            # An upload cannot go back: a first pass finds the CRC and packed size, so the
            # header is written once with the bytes the rewrite above leaves (same length,
            # same values), then the body. The source is a local file: read twice, not kept.
            crc, written = _pack(handle, method, _discard)
            handle.seek(0)
            header = _local(name, method, crc, written, size, zip64)
            self._out.write(header)
            _pack(handle, method, self._out.write)
            end = offset + len(header) + written
        self._pos = end
        self._central(name, method, crc, written, size, offset, FILE_MODE)

    def _central(
        self, name: str, method: int, crc: int, csize: int, usize: int, offset: int, mode: int
    ) -> None:
        encoded, flags = _name(name)
        big = [v for v in (usize, csize, offset) if v >= ZIP64_LIMIT]
        extra = struct.pack(f"<HH{len(big)}Q", 1, 8 * len(big), *big) if big else b""
        version = 45 if big else 20
        self._spool.write(
            CENTRAL.pack(
                b"PK\x01\x02",
                version,
                3,
                version,
                0,
                flags,
                method,
                DOS_TIME,
                DOS_DATE,
                crc,
                0xFFFFFFFF if csize >= ZIP64_LIMIT else csize,
                0xFFFFFFFF if usize >= ZIP64_LIMIT else usize,
                len(encoded),
                len(extra),
                0,
                0,
                0,
                mode,
                0xFFFFFFFF if offset >= ZIP64_LIMIT else offset,
            )  # fmt: skip
            + encoded
            + extra
        )
        self._count += 1

    def close(self) -> None:
        """Append the central directory and the end records."""
        start = self._pos
        self._spool.flush()
        self._spool.seek(0)
        shutil.copyfileobj(self._spool, self._out, 1 << 20)
        size = self._out.tell() - start
        count, size_field, start_field = self._count, size, start
        if self._count > COUNT_LIMIT or start >= ZIP64_LIMIT or size >= ZIP64_LIMIT:
            end64 = self._out.tell()
            self._out.write(END64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, start))
            self._out.write(LOCATOR64.pack(b"PK\x06\x07", 0, end64, 1))
            # Markers that send every reader to the zip64 record.
            count, size_field, start_field = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
        self._out.write(END.pack(b"PK\x05\x06", 0, 0, count, count, size_field, start_field, 0))


class EntryBody:
    """One file's zip body, packed as it is written. Until it reaches STREAM_FROM bytes it is
    kept as written, in the file ``raw``, to be packed when it is added, as any file is (its
    method and window depend on its final size). Past that it is CRC'd and deflated (or stored,
    by its name) block by block into the file ``path``: only large files hold a compressor
    (about 300 KB) while they are written."""

    def __init__(self, name: str, path: str) -> None:
        self.path = path
        self.raw = path + ".raw"
        self.method = _method(name, STREAM_FROM)
        self.streamed = False
        self.crc = self.size = self.csize = 0
        self._file: BinaryIO = open(self.raw, "wb")  # noqa: SIM115 - closed in close()
        self._packer: Any = None

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.streamed:
            self._pack(data)
            return
        self._file.write(data)
        if self.size >= STREAM_FROM:
            self._stream()

    def _stream(self) -> None:
        """From now on, pack as written: what was kept first."""
        self._file.close()
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self.streamed = True
        if self.method == DEFLATED:  # as _stream and _deflate pack a file of SMALL or more
            self._packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        with open(self.raw, "rb") as kept:
            while block := kept.read(1 << 18):
                self._pack(block)
        os.unlink(self.raw)

    def _pack(self, data: bytes) -> None:
        self.crc = zlib.crc32(data, self.crc)
        body = self._packer.compress(data) if self._packer else data
        self._file.write(body)
        self.csize += len(body)

    def close(self) -> None:
        if self._file.closed:
            return
        if self._packer:
            body = self._packer.flush()
            self._file.write(body)
            self.csize += len(body)
        self._file.close()


def _pack(handle: BinaryIO, method: int, write: Callable[[bytes], object]) -> tuple[int, int]:
    """Send ``handle``'s bytes, deflated or stored, to ``write``; return their CRC and the
    packed size."""
    crc, written = 0, 0
    packer = zlib.compressobj(6, zlib.DEFLATED, -15) if method == DEFLATED else None
    while chunk := handle.read(1 << 20):
        crc = zlib.crc32(chunk, crc)
        body = packer.compress(chunk) if packer else chunk
        write(body)
        written += len(body)
    if packer:
        tail = packer.flush()
        write(tail)
        written += len(tail)
    return crc, written


def _discard(data: bytes) -> None:
    pass


def _method(name: str, size: int) -> int:
    stored = size < TINY or name.lower().endswith(STORED_SUFFIXES)
    return STORED if stored else DEFLATED


def _name(name: str) -> tuple[bytes, int]:
    if name.isascii():
        return name.encode("ascii"), 0
    return name.encode("utf-8"), 0x800  # bit 11: the name is UTF-8


def _local(name: str, method: int, crc: int, csize: int, usize: int, zip64: bool) -> bytes:
    encoded, flags = _name(name)
    if zip64:  # sizes live in the extra field; its room is kept even while they are unknown
        extra = struct.pack("<HHQQ", 1, 16, usize, csize)
        sizes = (0xFFFFFFFF, 0xFFFFFFFF)
    else:
        extra, sizes = b"", (csize, usize)
    version = 45 if zip64 else 20
    header = LOCAL.pack(
        b"PK\x03\x04", version, 0, flags, method, DOS_TIME, DOS_DATE, crc, *sizes,
        len(encoded), len(extra),
    )  # fmt: skip
    return header + encoded + extra


def _deflate(data: bytes) -> bytes:
    if len(data) < SMALL:  # a window as large as the file, and a small hash table
        packer = zlib.compressobj(6, zlib.DEFLATED, -max(9, len(data).bit_length()), 4)
    else:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()
