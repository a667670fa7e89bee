"""The CLI's CSV reader: numpy's fast path reads exactly what the csv module reads."""

import uuid

import numpy as np
import pytest

from consensus.cli.csv_codes import PADDING, _fast_columns, read_columns
from consensus.cli.files import InputError

COLUMNS = ("task", "worker", "label")


def fast(text: str):
    data = text.encode()
    return _fast_columns("a.csv", bytearray(data) + bytes(PADDING), 0, len(data), COLUMNS)


def values(path, columns=COLUMNS):
    return [[col.names[c] for c in col.codes.tolist()] for col in read_columns(str(path), columns)]


def sample_rows(n=300):
    rng = np.random.default_rng(7)
    tasks = [str(uuid.UUID(int=int(rng.integers(0, 2**62)))) for _ in range(40)]  # 36 bytes
    workers = ["w1", "worker-2", "naïve x", "a" * 64, "Z"]
    labels = ["0", "10", "2", "very relevant"]
    return [
        (tasks[rng.integers(40)], workers[rng.integers(5)], labels[rng.integers(4)])
        for _ in range(n)
    ]


def test_a_plain_file_takes_the_fast_path_and_agrees_with_the_csv_module(tmp_path):
    # given the same rows plain, and quoted (which only the csv module reads)
    rows = sample_rows()
    plain = "task,worker,label\n" + "".join(f"{t},{w},{label}\n" for t, w, label in rows)
    quoted = "task,worker,label\n" + "".join(f'"{t}",{w},"{label}"\n' for t, w, label in rows)
    (tmp_path / "plain.csv").write_text(plain)
    (tmp_path / "quoted.csv").write_text(quoted)
    # then
    assert fast(plain) is not None
    assert fast(quoted) is None
    expected = [list(column) for column in zip(*rows, strict=True)]
    assert values(tmp_path / "plain.csv") == expected
    assert values(tmp_path / "quoted.csv") == expected


@pytest.mark.parametrize(
    "text",
    [
        "x,label,worker,task\n9,cat,a,1\n,dog,b,1\n",  # other order, extra column, empty extra
        "\ufefftask,worker,label\r\n1,a,cat\r\n1,b,dog\r\n",  # Excel: byte-order mark, CRLF
        "task,worker,label\n1,a,cat\n\n1,b,dog\n,,\n",  # blank lines and a blank row
        " task , worker ,label\n1, a ,cat\n1,b,dog \n",  # spaces around names and values
        "task,worker,label\n1,a,cat\n1,b,dog",  # no final newline
    ],
)
def test_every_layout_reads_the_same_answers(tmp_path, text):
    path = tmp_path / "a.csv"
    path.write_bytes(text.encode())
    assert values(path) == [["1", "1"], ["a", "b"], ["cat", "dog"]]


def test_a_field_longer_than_the_fast_path_takes_is_read_too(tmp_path):
    long = "x" * 200
    path = tmp_path / "a.csv"
    path.write_text(f"task,worker,label\n{long},a,cat\n1,a,{long}\n")
    assert values(path) == [[long, "1"], ["a", "a"], ["cat", long]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"task,worker,label\n1,a,cat\n2,,dog\n", "line 3: no value for 'worker'"),
        (b"task,label\n1,cat\n", "no column 'worker'"),
        (b"", "no column 'task', 'worker', 'label'"),
        (b"task,worker,label\n1,a,\xff\n", "not UTF-8"),
    ],
)
def test_bad_files_are_refused_with_the_line(tmp_path, content, message):
    path = tmp_path / "a.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_columns(str(path), COLUMNS)


@pytest.mark.parametrize("end", ["", "\n", "\n\n\n"])
def test_a_long_field_at_the_very_end_is_read_whole(tmp_path, end):
    path = tmp_path / "a.csv"
    path.write_text(f"task,worker,label\n1,a,cat\n2,b,a rather long label{end}")
    assert values(path)[2] == ["cat", "a rather long label"]
