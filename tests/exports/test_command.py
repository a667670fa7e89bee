"""``manage.py export_dataset``: the same snapshot as the API, clear refusals, a progress bar on
a terminal only, and nothing visible at --out until the export is whole — even when killed."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from exports import dataset as dataset_module
from exports.management.commands.export_dataset import ProgressBar
from tests.exports.helpers import bulk_accepted_tasks, manifest_of, tree_bytes

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("export_dataset", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_writes_a_folder_and_says_what_it_wrote(accepted_project, tmp_path):
    project = accepted_project("bbox", images=5, gold=1)
    report = run(str(project.pk), "--format", "coco", "--out", str(tmp_path / "out"))
    assert f"Wrote {tmp_path / 'out'}" in report
    assert "Images: 5 (" in report
    assert "manifest.json sha256:" in report
    assert manifest_of(tmp_path / "out")["counts"]["images"]["total"] == 5


def test_the_command_finds_a_project_by_name_and_writes_a_zip_with_its_split(
    accepted_project, tmp_path
):
    project = accepted_project("classification", images=4, name="Taxi rank")
    run("Taxi rank", "--format", "imagefolder", "--out", str(tmp_path / "t.zip"), "--zip",
        "--split", "1,0,0", "--min-confidence", "0.5")  # fmt: skip
    assert zipfile.ZipFile(tmp_path / "t.zip").testzip() is None
    manifest = manifest_of(tmp_path / "t.zip")
    assert manifest["snapshot"]["split"] == {"train": 1.0, "val": 0.0, "test": 0.0}
    assert manifest["project"]["id"] == str(project.pk)


def test_the_command_and_the_service_write_the_same_bytes(accepted_project, tmp_path):
    project = accepted_project("polygon", images=5)
    run(str(project.pk), "--format", "yolo", "--out", str(tmp_path / "a.zip"), "--zip")
    run(str(project.pk), "--format", "yolo", "--out", str(tmp_path / "b.zip"), "--zip", "--copy")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "tfrecord"], "format: Unknown format 'tfrecord'; expected one of: coco"),
        (["--format", "imagefolder"], "format: A bbox project exports as coco, yolo, voc"),
        (["--format", "coco", "--split", "0.8,0.1"], "split: Give three ratios"),
        (["--format", "coco", "--split", "0.8,0.3,0.1"], "split: The ratios add up to 1.2"),
        (["--format", "coco", "--split", "a,b,c"], "split: Give three numbers"),
        (["--format", "coco", "--split", "1.2,-0.2,0"], "split: Each ratio lies between 0 and 1"),
        (["--format", "coco", "--min-confidence", "1.5"], "min_confidence: Give a confidence"),
    ],
)
def test_bad_options_are_refused_with_the_field_and_nothing_is_written(
    accepted_project, tmp_path, args, message
):
    project = accepted_project("bbox", images=2)
    with pytest.raises(CommandError) as refused:
        run(str(project.pk), *args, "--out", str(tmp_path / "out"))
    assert str(refused.value).startswith(message)
    assert not (tmp_path / "out").exists()


def test_an_unknown_project_and_an_empty_one_are_refused(make_project, tmp_path):
    with pytest.raises(CommandError, match="project: no project with id or name 'nope'"):
        run("nope", "--format", "coco", "--out", str(tmp_path / "out"))
    empty = make_project("bbox", images=1)
    with pytest.raises(CommandError, match="project: The project has no accepted tasks"):
        run(str(empty.pk), "--format", "coco", "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_an_output_that_is_not_empty_is_kept_unless_force(accepted_project, tmp_path):
    project = accepted_project("bbox", images=2)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(CommandError, match="out: .* exists and is not empty; .* --force"):
        run(str(project.pk), "--format", "csv", "--out", str(tmp_path / "out"))
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"
    run(str(project.pk), "--format", "csv", "--out", str(tmp_path / "out"), "--force")
    assert sorted(tree_bytes(tmp_path / "out"))[0].startswith("images/")
    assert not (tmp_path / "out" / "notes.txt").exists()


def test_the_progress_bar_draws_to_the_end():
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar(500, 1000)
    bar(1000, 1000)
    assert stream.getvalue().endswith("[##############################] 100% 1,000/1,000 tasks\n")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_sigterm_stops_the_command_and_removes_its_work_folder(
    accepted_project, tmp_path, monkeypatch
):
    # given a long export on a terminal, sent SIGTERM half-way
    project = accepted_project("bbox", images=1)
    bulk_accepted_tasks(project, 40)
    monkeypatch.setattr(dataset_module, "PROGRESS_EVERY", 5)
    monkeypatch.setattr("sys.stderr", _Terminal())
    draw = ProgressBar.__call__

    def draw_then_terminate(self, done, total):
        draw(self, done, total)
        if done >= 20:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(ProgressBar, "__call__", draw_then_terminate)
    # when it runs, then it exits with 143 and leaves nothing behind
    with pytest.raises(SystemExit) as stopped:
        run(str(project.pk), "--format", "yolo", "--out", str(tmp_path / "out"))
    assert stopped.value.code == 128 + signal.SIGTERM
    assert "/41 tasks" in sys.stderr.getvalue()  # the bar was drawn (at most ten times a second)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["media"]
    assert signal.getsignal(signal.SIGTERM) is not None


@pytest.mark.skipif(not settings.USING_POSTGRES, reason="the child process reads the test database")
@pytest.mark.django_db(transaction=True)
def test_a_command_killed_mid_run_never_leaves_a_partial_zip(accepted_project, tmp_path):
    # given a project large enough to take a moment, committed for a child process to read
    project = accepted_project("bbox", images=1)
    bulk_accepted_tasks(project, 2000)
    out = tmp_path / "export.zip"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "TEST_MEDIA_ROOT": settings.MEDIA_ROOT,
    }
    command = [sys.executable, "manage.py", "export_dataset", str(project.pk), "--format", "yolo",
               "--out", str(out), "--zip"]  # fmt: skip
    # when the command is killed with SIGKILL once its work has started
    child = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while child.poll() is None and time.monotonic() < deadline:
        if any(p.name.startswith(".export-") for p in tmp_path.iterdir()):
            child.kill()
            break
        time.sleep(0.002)
    child.wait(timeout=60)
    # then there is no zip at all, or (had it already finished) a whole one
    if out.exists():
        assert child.returncode == 0
        assert zipfile.ZipFile(out).testzip() is None
    else:
        assert child.returncode == -signal.SIGKILL
    # and a re-run writes the whole export beside the dead run's hidden work folder
    rerun = subprocess.run(
        [*command, "--force"], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert rerun.returncode == 0, rerun.stderr
    assert manifest_of(out)["counts"]["images"]["total"] == 2001
