"""The demo as `scripts/demo` starts it (migrate, seed_demo, runserver with DEBUG on, SQLite and
in-process tasks), on a free loopback port, with its files in a folder of the test's own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The machine's environment without the test run's own database, broker and settings, and
    the demo's SQLite, media and exports in ``tmp``. No DEBUG: the caller says."""
    drop = ("DATABASE_URL", "REDIS_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY")
    return {
        **{k: v for k, v in os.environ.items() if k not in drop and k != "DEBUG"},
        "DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}",
        "MEDIA_ROOT": str(tmp / "media"),
        "EXPORT_ROOT": str(tmp / "exports"),
        **extra,
    }


@contextmanager
def demo_server(env: dict[str, str], *, images: int = 40) -> Iterator[str]:
    """Seed and serve the demo on ``env`` (DEBUG on, as scripts/demo); yields its base URL."""
    env = {**env, "DEBUG": "1"}
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--verbosity", "0"], ["seed_demo", "--images", str(images)]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/accounts/login/", timeout=2)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
