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
        ("task,worker\n1,a\n", "line 1: expected the header task,worker,label"),
        ("task,worker,label\n1,a,cat\n2,b\n", "line 3: expected 3 non-empty fields"),
        ("task,worker,label\n", "no answers"),
    ],
)
def test_a_malformed_csv_names_its_line_and_exits_2(tmp_path, content, message):
    result = run(write(tmp_path / "a.csv", content), "--kind", "classification")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


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
