"""Reading the CLI's input files, with errors that name the line."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO


class InputError(Exception):
    """Bad input: the message names the file and line."""


@contextmanager
def opened(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdin
        return
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            yield handle
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text") from exc


def csv_rows(path: str, columns: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, fields) after checking the header and each row's width."""
    with opened(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != list(columns):
            raise InputError(f"{path}: line 1: expected the header {','.join(columns)}")
        for row in reader:
            if not row:
                continue
            if len(row) != len(columns) or any(not field.strip() for field in row):
                raise InputError(
                    f"{path}: line {reader.line_num}: expected {len(columns)} non-empty fields"
                )
            yield reader.line_num, [field.strip() for field in row]


def json_lines(path: str) -> Iterator[tuple[int, dict]]:
    with opened(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line, parse_constant=_no_constant)
            except (json.JSONDecodeError, ValueError) as exc:
                raise InputError(f"{path}: line {number}: not valid JSON ({exc})") from exc
            if not isinstance(value, dict):
                raise InputError(f"{path}: line {number}: expected a JSON object")
            yield number, value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def write_csv(out: IO[str], header: list[str], rows: list[list[object]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    out.write(buffer.getvalue())
