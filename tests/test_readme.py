"""First contact: the README's shell examples and the commands `scripts/demo` prints work as
written, pasted into a new shell while the demo server runs.

The server is started as `scripts/demo` starts it (migrate, seed_demo, runserver with DEBUG on; a
SQLite file of its own in a temp dir, tasks in-process), whatever database the suite uses. The
README's ```bash blocks of "Using the API", "Exports" and "Management commands" then run in order
in one `bash` (`set -euo pipefail`) in a temp folder that looks like a checkout to the real
`scripts/manage` (symlinks to it, to `.venv` and to `manage.py`), so files the README writes land
there and nothing in the repository changes. The bash process gets the server's DATABASE_URL,
MEDIA_ROOT and EXPORT_ROOT (what a shell beside `scripts/demo` gets from the embedded defaults),
but not DEBUG: `scripts/manage` must work without it.

Not run, on purpose: the two commands at the top of the README (they would bootstrap a new
`.venv` and start a second server), and every block fenced other than ```bash: the ```shell
blocks need a URL of the reader's (the webhook), the ```python blocks are code for the reader's
own programs (the receiver, the training job with pycocotools or Ultralytics), and the ``` blocks
show output.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.demo_server import demo_env, demo_server

ROOT = Path(__file__).resolve().parents[1]
# Another file can stand in for the README (to check that the test fails on an older one).
README = Path(os.environ.get("README_UNDER_TEST", ROOT / "README.md"))
SECTIONS = ("Using the API", "Exports", "Management commands")
OPENING = ["scripts/demo", "scripts/test"]
RUN_SECONDS = 420
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def fenced_blocks(text: str) -> list[tuple[str | None, str, str]]:
    """(section, info string, body) of every fenced block, in order; section None before the
    first `## ` heading."""
    blocks, section, fence, body = [], None, None, []
    for line in text.splitlines():
        if fence is None:
            if line.startswith("## "):
                section = line[3:].strip()
            elif line.startswith("```"):
                fence, body = line[3:].strip(), []
        elif line.startswith("```"):
            blocks.append((section, fence, "\n".join(body)))
            fence = None
        else:
            body.append(line)
    assert fence is None, "a fenced block is not closed"
    return blocks


def readme_script(text: str) -> str:
    blocks = fenced_blocks(text)
    opening = [b for s, f, b in blocks if s is None and f == "bash"]
    assert len(opening) == 1, "expected one ```bash block above the first section"
    assert [line.split()[0] for line in opening[0].splitlines()] == OPENING
    runnable = [b for s, f, b in blocks if s in SECTIONS and f == "bash"]
    for section in SECTIONS:
        assert any(s == section and f == "bash" for s, f, _ in blocks), section
    return "\n\n".join(runnable)


def banner_commands() -> list[str]:
    """The commands `scripts/demo` prints, e.g. `Get a token:  curl -s ...`."""
    text = (ROOT / "scripts" / "demo").read_text(encoding="utf-8")
    banner = text.split("<<MSG", 1)[1].split("\nMSG", 1)[0]
    commands = re.findall(r"^\s+[A-Z][^:\n]*:\s{2,}(\S.*)$", banner, re.M)
    assert len(commands) >= 2, banner
    return commands


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo server, and a shell environment beside it: (base URL, env, work folder)."""
    tmp = tmp_path_factory.mktemp("readme")
    env = demo_env(tmp)
    work = tmp / "work"
    (work / "scripts").mkdir(parents=True)
    (work / "scripts" / "manage").symlink_to(ROOT / "scripts" / "manage")
    (work / ".venv").symlink_to(ROOT / ".venv")
    (work / "manage.py").symlink_to(ROOT / "manage.py")
    with demo_server(env) as base:
        yield base, {**env, "HOST": base, "PORT": base.rsplit(":", 1)[1]}, work


def _run(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )


def test_the_commands_the_demo_prints_work_in_a_new_shell(demo):
    _, env, work = demo
    commands = banner_commands()
    done = _run("\n".join(commands), env, work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert all("manage.py" not in c for c in commands), "scripts/manage, not manage.py"
    assert '{"token":' in done.stdout, done.stdout
    assert "Tasks by state:" in done.stdout, done.stdout


def test_the_readme_runs_top_to_bottom_against_the_demo(demo):
    _, env, work = demo
    done = _run(readme_script(README.read_text(encoding="utf-8")), env, work)
    out = done.stdout
    assert done.returncode == 0, f"exit {done.returncode}\n{out}\n{done.stderr}"
    assert re.search(rf"^PROJECT={UUID}$", out, re.M), out
    assert "HTTP 201" in out, out  # the worker's answer was taken
    export = json.loads((work / "export.json").read_text(encoding="utf-8"))
    assert export["state"] == "ready", export
    download = hashlib.sha256((work / "export.zip").read_bytes()).hexdigest()
    assert download == export["sha256"], export
    assert f"{download} OK" in out, out  # the README checked it too


def test_demo_images_writes_pngs_truth_and_zip(tmp_path):
    call_command(
        "demo_images", kind="bbox", count="3", out=str(tmp_path / "s"), zip_path=str(tmp_path / "s.zip")
    )  # fmt: skip
    names = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert names == ["bbox-000.png", "bbox-001.png", "bbox-002.png", "truth.json"]
    truth = json.loads((tmp_path / "s" / "truth.json").read_text(encoding="utf-8"))
    assert set(truth) == set(names[:3])
    assert all("boxes" in t for t in truth.values())
    with zipfile.ZipFile(tmp_path / "s.zip") as archive:
        assert sorted(archive.namelist()) == names[:3]
        assert archive.read("bbox-001.png") == (tmp_path / "s" / "bbox-001.png").read_bytes()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kind": "boxes"}, "--kind: expected one of"),
        ({"count": "0"}, "--count: expected a whole number"),
        ({"count": "many"}, "--count: expected a whole number"),
        ({"out": None}, "--out: give the folder"),
        ({"zip_path": "no/such/folder/x.zip"}, "--zip: the folder"),
    ],
)
def test_demo_images_refuses_bad_arguments_in_one_line(tmp_path, options, message):
    options = {"out": str(tmp_path / "s"), **options}
    with pytest.raises(CommandError, match=message) as caught:
        call_command("demo_images", **options)
    assert "\n" not in str(caught.value)


def test_demo_images_bad_option_from_the_shell_is_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "demo_images", "--kind", "boxes", "--out", "s"],
        cwd=tmp_path,
        env={**demo_env(tmp_path), "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "CommandError: --kind: expected one of classification, bbox, polygon, moderation, got 'boxes'."
    ]
