"""``python -m consensus aggregate`` on files, without a database."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "truth"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "consensus", "aggregate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},  # no DJANGO_SETTINGS_MODULE, no database
    )


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_classification_with_gold_prints_task_label_confidence(tmp_path):
    # given six tasks everyone agrees on, and a gold task on which only c is right
    agreed = "".join(f"{t},{w},{'cat' if t % 2 else 'dog'}\n" for t in range(2, 8) for w in "abc")
    answers = write(tmp_path / "a.csv", "task,worker,label\n1,a,cat\n1,b,cat\n1,c,dog\n" + agreed)
    gold = write(tmp_path / "g.csv", "task,label\n1,dog\n")
    # when
    skills_out = str(tmp_path / "s.csv")
    result = run(answers, "--kind", "classification", "--gold", gold, "--skills-out", skills_out)
    # then
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert [(r["task"], r["label"]) for r in rows[:3]] == [("1", "dog"), ("2", "dog"), ("3", "cat")]
    skills_text = Path(skills_out).read_text().splitlines()
    skills = {r["worker"]: float(r["accuracy"]) for r in csv.DictReader(skills_text)}
    assert skills["c"] > skills["a"]


def test_a_repeated_task_worker_pair_keeps_the_last_answer(tmp_path):
    answers = write(tmp_path / "a.csv", "task,worker,label\n1,a,cat\n1,a,dog\n")
    result = run(answers, "--kind", "classification", "--method", "mv")
    assert list(csv.DictReader(result.stdout.splitlines()))[0]["label"] == "dog"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("task,worker\n1,a\n", "line 1: no column 'label' in the header"),
        ("task,worker,label\n1,a,cat\n2,b\n", "line 3: no value for 'label'"),
        ("task,worker,label\n1,a,cat\n2, ,dog\n", "line 3: no value for 'worker'"),
        ("task,worker,label\n", "no answers"),
    ],
)
def test_a_malformed_csv_names_its_line_and_exits_2(tmp_path, content, message):
    result = run(write(tmp_path / "a.csv", content), "--kind", "classification")
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1  # one clear line, no traceback
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"task": 1, "worker": "a", "boxes": [{"label": "car", "bbox": [1, 2, NaN, 4]}]}',
            "not valid JSON",
        ),
        (
            '{"task": 1, "worker": "a", "boxes": [{"label": "car", "bbox": [1, 2, 0, 4]}]}',
            "must be positive",
        ),
        (
            '{"task": 1, "worker": "a", "boxes": [{"label": "car", "bbox": [1, 2, true, 4]}]}',
            "of finite numbers",
        ),
        (
            '{"task": 1, "worker": "a", "boxes": [{"label": "car", "bbox": [1, "2", 3, 4]}]}',
            "of finite numbers",
        ),
        ('{"task": 1, "worker": "a", "boxes": [{"label": 7, "bbox": [1, 2, 3, 4]}]}', "label"),
        ('{"task": 1, "boxes": []}', "needs 'task' and 'worker'"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_a_malformed_shape_line_names_its_line_and_exits_2(tmp_path, line, message):
    result = run(
        write(tmp_path / "a.jsonl", '{"task": 0, "worker": "a", "boxes": []}\n' + line + "\n"),
        "--kind",
        "bbox",
    )
    assert result.returncode == 2
    assert "line 2" in result.stderr
    assert message in result.stderr


def test_boxes_are_fused_and_an_empty_image_stays_empty(tmp_path):
    lines = [
        {"task": "i1", "worker": w, "boxes": [{"label": label, "bbox": [10 + dx, 10, 20, 20]}]}
        for w, label, dx in (("a", "car", 0), ("b", "car", 1), ("c", "taxi", 0))
    ] + [{"task": "i2", "worker": w, "boxes": []} for w in "ab"]
    answers = write(tmp_path / "a.jsonl", "\n".join(json.dumps(x) for x in lines))
    result = run(answers, "--kind", "bbox")
    assert result.returncode == 0, result.stderr
    fused = {row["task"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert [b["label"] for b in fused["i1"]["boxes"]] == ["car"]
    assert fused["i2"]["boxes"] == []


def test_polygons_are_fused(tmp_path):
    square = [[0, 0], [10, 0], [10, 10], [0, 10]]
    lines = [
        {"task": "p", "worker": w, "polygons": [{"label": "road", "points": square}]} for w in "abc"
    ]
    result = run(
        write(tmp_path / "p.jsonl", "\n".join(json.dumps(x) for x in lines)), "--kind", "polygon"
    )
    assert result.returncode == 0, result.stderr
    [row] = map(json.loads, result.stdout.splitlines())
    assert row["polygons"][0]["label"] == "road"


@pytest.mark.skipif(
    not (DATA / "bluebirds").exists(), reason="the shared data sets are not beside the repo"
)
def test_the_cli_beats_majority_vote_on_the_bluebirds_data(tmp_path):
    result = run(str(DATA / "bluebirds" / "answers.csv"), "--kind", "classification")
    truth = {
        r["task"]: r["label"] for r in csv.DictReader((DATA / "bluebirds" / "truth.csv").open())
    }
    predicted = {r["task"]: r["label"] for r in csv.DictReader(result.stdout.splitlines())}
    accuracy = sum(predicted[t] == label for t, label in truth.items()) / len(truth)
    assert accuracy > 0.85  # majority vote: 0.76


@pytest.mark.parametrize("method", [None, "hybrid", "full", "one_coin", "mv"])
def test_answers_that_all_agree_on_one_class_get_it_with_full_confidence(tmp_path, method):
    # given a small batch where every worker chose "cat"
    answers = write(tmp_path / "a.csv", "task,worker,label\n1,a,cat\n1,b,cat\n2,a,cat\n")
    # when
    result = run(answers, "--kind", "classification", *(["--method", method] if method else []))
    # then
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert [(r["task"], r["label"], float(r["confidence"])) for r in rows] == [
        ("1", "cat", 1.0),
        ("2", "cat", 1.0),
    ]


def test_one_class_with_gold_writes_skills(tmp_path):
    answers = write(tmp_path / "a.csv", "task,worker,label\n1,a,cat\n1,b,cat\n")
    gold = write(tmp_path / "g.csv", "task,label\n1,cat\n")
    skills_out = tmp_path / "s.csv"
    result = run(
        answers, "--kind", "classification", "--gold", gold, "--skills-out", str(skills_out)
    )
    assert result.returncode == 0, result.stderr
    assert skills_out.read_text().splitlines()[1:] == ["a,1.000000,1", "b,1.000000,1"]


def test_the_header_is_read_by_name_from_an_excel_csv_with_extra_columns(tmp_path):
    # given Excel's "CSV UTF-8" (a byte-order mark, CRLF), another column order, extra columns
    text = "comment,label,task,time,worker\r\nok,cat,1,3,a\r\n,cat,1,4,b\r\nhm,dog,1,5,c\r\n"
    answers = tmp_path / "a.csv"
    answers.write_bytes(b"\xef\xbb\xbf" + text.encode())
    # when
    result = run(str(answers), "--kind", "classification", "--method", "mv")
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["task,label,confidence", "1,cat,0.666667"]


def test_a_missing_column_is_named_in_one_line_and_exits_2(tmp_path):
    answers = write(tmp_path / "a.csv", "task,annotator,label\n1,a,cat\n")
    result = run(answers, "--kind", "classification")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "no column 'worker'" in line
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--method", "mv", "--skills-out", "SKILLS"], "--skills-out: mv estimates no"),
        (["--skills-out", "/no/such/folder/s.csv"], "--skills-out: cannot write"),
        (["--method", "glad"], "--method: expected one of"),
        (["--iou", "0.7"], "--iou: only for"),
        (["--invalid", "skip"], "--invalid: only for"),
    ],
)
def test_options_that_do_not_fit_exit_2_before_anything_is_written(tmp_path, options, message):
    # given a large enough file that running first would print labels
    rows = "".join(
        f"{t},{w},{'cat' if (t + w) % 3 else 'dog'}\n" for t in range(50) for w in range(3)
    )
    answers = write(tmp_path / "a.csv", "task,worker,label\n" + rows)
    skills_out = tmp_path / "s.csv"
    options = [str(skills_out) if o == "SKILLS" else o for o in options]
    # when
    result = run(answers, "--kind", "classification", *options)
    # then
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert not skills_out.exists()


def test_gold_naming_unknown_tasks_or_classes_warns_and_adds_no_class(tmp_path):
    # given answers of cat and dog only, and gold that names a bird and a task nobody answered
    answers = write(
        tmp_path / "a.csv",
        "task,worker,label\n1,a,cat\n1,b,cat\n2,a,dog\n2,b,dog\n3,a,cat\n3,b,dog\n",
    )
    gold = write(tmp_path / "g.csv", "task,label\n1,bird\n2,dog\n9,cat\n")
    # when
    result = run(answers, "--kind", "classification", "--gold", gold)
    # then
    assert result.returncode == 0, result.stderr
    [warning] = result.stderr.splitlines()
    assert "2 of 3 gold rows ignored" in warning
    assert "1 name a task with no answers, 1 a class no worker chose (bird)" in warning
    labels = {r["task"]: r["label"] for r in csv.DictReader(result.stdout.splitlines())}
    assert labels["1"] == "cat"
    assert set(labels.values()) <= {"cat", "dog"}


def test_help_warns_that_one_coin_can_fall_below_majority_vote():
    result = run("--help")
    assert result.returncode == 0
    assert "one_coin" in result.stdout
    assert "below majority vote" in " ".join(result.stdout.split())


BOW_TIE = [[0, 0], [10, 10], [10, 0], [0, 10]]  # crosses itself in the middle
SQUARE = [[0, 0], [10, 0], [10, 10], [0, 10]]


def polygon_file(tmp_path: Path) -> str:
    lines = [
        {"task": "p", "worker": "a", "polygons": [{"label": "road", "points": SQUARE}]},
        {"task": "p", "worker": "b", "polygons": [{"label": "road", "points": SQUARE}]},
        {"task": "p", "worker": "c", "polygons": [{"label": "road", "points": BOW_TIE}]},
        {"task": "q", "worker": "a", "polygons": [{"label": "road", "points": SQUARE}]},
    ]
    return write(tmp_path / "p.jsonl", "\n".join(json.dumps(x) for x in lines))


def test_a_self_intersecting_polygon_is_repaired_and_counted(tmp_path):
    result = run(polygon_file(tmp_path), "--kind", "polygon")
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.splitlines()
    assert "1 repaired" in line
    assert "0 skipped" in line
    fused = [json.loads(x) for x in result.stdout.splitlines()]
    assert [row["task"] for row in fused] == ["p", "q"]
    assert fused[0]["polygons"][0]["label"] == "road"


def test_a_self_intersecting_polygon_is_skipped_by_option(tmp_path):
    skills_out = tmp_path / "s.csv"
    result = run(
        polygon_file(tmp_path),
        "--kind",
        "polygon",
        "--invalid",
        "skip",
        "--skills-out",
        str(skills_out),
    )
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.splitlines()
    assert "0 repaired" in line
    assert "1 skipped" in line
    assert len(result.stdout.splitlines()) == 2
    skills = {r["worker"]: float(r["accuracy"]) for r in csv.DictReader(skills_out.open())}
    assert skills["c"] < skills["a"]  # drew nothing usable where a and b drew a road
