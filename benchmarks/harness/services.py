"""Child programs: commands run to completion (output captured, or appended to a log), and
servers kept running in sessions of their own, so that they, and only their children, can be
stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import ROOT, BenchError

HOST = "127.0.0.1"


def child_command(name: str, *, python: str = sys.executable) -> list[str]:
    """The command that runs ``benchmarks/children/<name>.py``, from the checkout's root."""
    return [python, "-m", f"benchmarks.children.{name}"]


def run_captured(command: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    """Run ``command`` in the checkout; its stdout, or BenchError with the end of its stderr."""
    result = subprocess.run(command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(command[:3])} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def run_logged(cmd: list[str], env: dict[str, str], what: str, log: Path, cwd: Path) -> None:
    """Run ``cmd`` with its output appended to ``log``; BenchError with the log's tail on failure."""
    with log.open("ab") as out:
        result = subprocess.run(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise BenchError(f"{what} failed (exit {result.returncode}); see {log}:\n{log_tail(log)}")


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Service:
    """A child process in a session of its own, so it and only its children can be stopped."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log: Path, cwd: Path):
        self.name, self.log = name, log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace: float = 20.0) -> None:
        if self.alive():  # the leader stops its own workers gracefully
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        # Children left behind by a dead leader (a gunicorn worker, a Celery child) go too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._out.close()
