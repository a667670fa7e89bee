"""Named CSV columns read straight into integer codes, with no Python object per row.

A million answers are mostly repeats of a few thousand names, so each column becomes its
distinct names plus an integer code per row. The fast path works on the file's bytes with numpy:
the positions of commas and newlines give each field's start and end; a field's bytes, zero-padded
to whole 8-byte words, are its key; ``np.unique`` turns keys into codes. It takes only files that
it reads exactly as the csv module would: no quote, NUL or lone carriage return; the same number of
commas on every line; no blank line inside; no empty field; no field starting or ending with
whitespace or a non-ASCII byte (``str.strip`` could change it); fields of at most 64 bytes.
Anything else, malformed files included (so that the error names the line), goes through the csv
module, which codes each column with a dict: one object per distinct name, not per row.
"""

from __future__ import annotations

import os
import sys
from array import array
from dataclasses import dataclass

import numpy as np

from .files import InputError, csv_rows, header_positions

MAX_FAST_FIELD = 64  # bytes; a longer field sends the file to the csv module
PADDING = 16  # zero bytes after the text: an 8-byte word can be read from any field start
CHUNK = 1 << 22  # bytes scanned for separators at a time
BOM = b"\xef\xbb\xbf"  # Excel's "CSV UTF-8" starts with one
_COMMA, _NEWLINE = ord(","), ord("\n")
_PRINTABLE = (0x21, 0x7E)  # a fast-path field starts and ends with one of these ASCII bytes
# _MASKS[m] keeps the first m bytes of a little-endian 8-byte word.
_MASKS = np.array([(1 << (8 * m)) - 1 for m in range(8)] + [2**64 - 1], dtype="<u8")


@dataclass(frozen=True)
class Column:
    names: list[str]  # the distinct values, in code order
    codes: np.ndarray  # (n_rows,) int64 index into names


def read_columns(path: str, columns: tuple[str, ...]) -> list[Column]:
    """The named columns of the CSV at ``path`` (``-``: stdin), found by name in the header
    (a UTF-8 byte-order mark, other columns and any order are fine); rows of only blank fields
    are skipped; an empty value or a missing column is an InputError naming the line."""
    buffer, size = _read_padded(path)
    start = 3 if buffer.startswith(BOM) else 0
    if not buffer.isascii():
        try:
            str(memoryview(buffer)[start:size], "utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text") from exc
    fast = _fast_columns(path, buffer, start, size, columns)
    if fast is not None:
        return fast
    return _csv_columns(path, str(memoryview(buffer)[start:size], "utf-8"), columns)


def _read_padded(path: str) -> tuple[bytearray, int]:
    """The file's bytes in a buffer with PADDING zero bytes after them, and their count; read
    in place, so the only copy of the file is this one."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
            return bytearray(data) + bytes(PADDING), len(data)
        with open(path, "rb", buffering=0) as handle:
            buffer = bytearray(os.fstat(handle.fileno()).st_size + PADDING)
            view, size = memoryview(buffer), 0
            while size < len(buffer) - PADDING and (got := handle.readinto(view[size:-PADDING])):
                size += got
            return buffer, size
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc


def _csv_columns(path: str, text: str, columns: tuple[str, ...]) -> list[Column]:
    """The general path: the csv module, each column coded through a dict as it streams."""
    indexes: list[dict[str, int]] = [{} for _ in columns]
    codes = [array("q") for _ in columns]
    for row in csv_rows(path, columns, text):
        for value, index, out in zip(row, indexes, codes, strict=True):
            out.append(index.setdefault(value, len(index)))
    return [
        Column(list(index), np.frombuffer(out, dtype=np.int64) if out else np.zeros(0, np.int64))
        for index, out in zip(indexes, codes, strict=True)
    ]


def _fast_columns(
    path: str, buffer: bytearray, start: int, size: int, columns: tuple[str, ...]
) -> list[Column] | None:
    """The columns by numpy on the bytes buffer[start:size], or None when the file is not
    plain enough for it."""
    plain = _plain(buffer, start, size)
    if plain is None:
        return None
    buffer, start, end = plain
    raw = np.frombuffer(buffer, dtype=np.uint8, count=end)
    header = buffer[start : buffer.index(b"\n", start)].decode("utf-8").split(",")
    positions = header_positions(path, header, columns)
    separators = _separators(raw, len(header))
    if separators is None:
        return None
    words = np.frombuffer(buffer, dtype="<u8", count=len(buffer) // 8)
    out = []
    for position in positions:
        starts, ends = _field_bounds(separators, len(header), position)
        column = _code_column(raw, words, starts, ends)
        if column is None:
            return None
        out.append(column)
    return out


def _plain(buffer: bytearray, start: int, size: int) -> tuple[bytearray, int, int] | None:
    """The buffer (a new one with \\n for \\r\\n), where its text starts, and where it ends
    after its last line's newline (later blank lines are left out); None if the fast path cannot
    read it: a quote, a NUL, a lone \\r, no text. Only the padding is written to, so the text
    stays as read for the csv path."""
    if buffer.find(b'"', start, size) >= 0 or buffer.find(b"\0", start, size) >= 0:
        return None
    if buffer.find(b"\r", start, size) >= 0:
        data = buffer[start:size].replace(b"\r\n", b"\n")
        if b"\r" in data:
            return None
        buffer, start, size = data + bytes(PADDING), 0, len(data)
    end = size
    while end > start and buffer[end - 1] == _NEWLINE:
        end -= 1
    if end == start:
        return None
    if end == size:  # no final newline: put one in the padding
        buffer[size] = _NEWLINE
    return buffer, start, end + 1


def _separators(raw: np.ndarray, n_columns: int) -> np.ndarray | None:
    """Offsets of every comma and newline, or None unless every line (the header's too) has
    exactly n_columns - 1 commas, so that a blank line also takes the csv path."""
    small = np.int32 if raw.size < 2**31 else np.int64
    found = []
    for at in range(0, raw.size, CHUNK):  # by chunks: no file-sized temporaries
        chunk = raw[at : at + CHUNK]
        found.append((np.flatnonzero((chunk == _COMMA) | (chunk == _NEWLINE)) + at).astype(small))
    separators = np.concatenate(found)
    if separators.size % n_columns:
        return None
    kinds = raw[separators].reshape(-1, n_columns)
    if not ((kinds[:, -1] == _NEWLINE).all() and (kinds[:, :-1] == _COMMA).all()):
        return None
    return separators


def _field_bounds(
    separators: np.ndarray, n_columns: int, position: int
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the column's fields below the header."""
    ends = separators[position::n_columns][1:]
    if position:
        before = separators[position - 1 :: n_columns][1:]
    else:  # a line's first field starts after the previous line's newline
        before = separators[n_columns - 1 :: n_columns][:-1]
    return before + 1, ends


def _code_column(
    raw: np.ndarray, words: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> Column | None:
    """Code one column from its fields' offsets; None if a field is empty, too long, or could
    be changed by str.strip."""
    lengths = ends - starts
    if lengths.size == 0:
        return Column([], np.zeros(0, np.int64))
    if lengths.min() < 1 or lengths.max() > MAX_FAST_FIELD:
        return None
    low, high = _PRINTABLE
    for edge in (raw[starts], raw[ends - 1]):
        if ((edge < low) | (edge > high)).any():
            return None
    keys = _field_keys(words, starts, lengths)
    if keys.shape[1] == 1:
        unique, codes = _factorised(keys[:, 0])
        unique = unique[:, None]
    else:
        unique, codes = np.unique(keys, axis=0, return_inverse=True)
    as_bytes = np.ascontiguousarray(unique, dtype="<u8").view(f"S{8 * keys.shape[1]}").ravel()
    names = [b.decode("utf-8") for b in as_bytes.tolist()]  # S dtype drops the zero padding
    return Column(names, codes.reshape(-1).astype(np.int64, copy=False))


def _factorised(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys (sorted) and each key's index among them: np.unique's return_inverse,
    done by hand because that is about twice as fast as numpy's own here."""
    order = np.argsort(keys)
    ordered = keys[order]
    is_new = np.empty(keys.size, dtype=bool)
    is_new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=is_new[1:])
    codes = np.empty(keys.size, dtype=np.int64)
    codes[order] = np.cumsum(is_new) - 1
    return ordered[is_new], codes


def _field_keys(words: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(n, k) little-endian 8-byte words of each field, zero after its last byte: equal keys
    are equal fields, since a field holds no NUL."""
    n_words = -(-int(lengths.max()) // 8)
    keys = np.empty((starts.size, n_words), dtype="<u8")
    for k in range(n_words):
        # a word wholly past a field's end is masked to 0, so read it anywhere within bounds
        at = np.where(lengths > 8 * k, starts + 8 * k, starts) if k else starts
        keys[:, k] = _word_at(words, at) & _MASKS[np.clip(lengths - 8 * k, 0, 8)]
    return keys


def _word_at(words: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The 8 bytes from each byte offset, from two aligned words (the padding covers the
    second); shifting twice makes a shift of 64 (offset a multiple of 8) give 0, not junk."""
    index = offsets >> 3
    shift = ((offsets & 7) << 3).astype(np.uint64)
    low = words[index] >> shift
    high = (words[index + 1] << np.uint64(1)) << (np.uint64(63) - shift)
    result: np.ndarray = low | high
    return result
