"""Reading the CLI's input files, with errors that name the line."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO


class InputError(Exception):
    """Bad input: the message names the file and line."""


def warn(message: str) -> None:
    """One line on stderr that does not stop the run."""
    print(f"warning: {message}", file=sys.stderr)


@contextmanager
def opened(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdin
        return
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            yield handle
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text") from exc


def read_bytes(path: str) -> bytes:
    """The whole file (``-``: standard input), without a UTF-8 byte-order mark."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as handle:
                data = handle.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    return data.removeprefix(b"\xef\xbb\xbf")  # Excel's "CSV UTF-8" starts with one


def header_positions(path: str, header: list[str], columns: tuple[str, ...]) -> list[int]:
    """Where each wanted column is in ``header``: columns are found by name, in any order, among
    any others; a missing one is an error that names it."""
    names = [h.strip() for h in header]
    missing = [c for c in columns if c not in names]
    if missing:
        raise InputError(
            f"{path}: line 1: no column {', '.join(repr(m) for m in missing)} in the header "
            f"(needs {','.join(columns)}; found {','.join(names) or 'nothing'})"
        )
    return [names.index(c) for c in columns]


def csv_rows(path: str, columns: tuple[str, ...], text: str | None = None) -> Iterator[list[str]]:
    """Yield the named columns of each row, stripped, checking that none is empty. Blank rows
    (Excel's trailing ",,") are skipped. ``text``: the file's content, when already read."""
    with _text(path, text) as handle:
        reader = csv.reader(handle)
        positions = header_positions(path, next(reader, []), columns)
        for row in reader:
            if not any(field.strip() for field in row):
                continue
            yield [
                _field(path, reader.line_num, row, i, name)
                for i, name in zip(positions, columns, strict=True)
            ]


def _field(path: str, line: int, row: list[str], position: int, name: str) -> str:
    value = row[position].strip() if position < len(row) else ""
    if not value:
        raise InputError(f"{path}: line {line}: no value for {name!r}")
    return value


@contextmanager
def _text(path: str, text: str | None) -> Iterator[IO[str]]:
    if text is None:
        with opened(path) as handle:
            yield handle
    else:
        yield io.StringIO(text, newline="")


def json_lines(path: str) -> Iterator[tuple[int, dict]]:
    decoder = json.JSONDecoder(parse_constant=_no_constant)  # json.loads would make one a line
    with opened(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = decoder.decode(line)
            except (json.JSONDecodeError, ValueError) as exc:
                raise InputError(f"{path}: line {number}: not valid JSON ({exc})") from exc
            if not isinstance(value, dict):
                raise InputError(f"{path}: line {number}: expected a JSON object")
            yield number, value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def write_csv(out: IO[str], header: list[str], rows: Iterable[Iterable[object]]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
