"""The platform as a user meets it: DEBUG off, static files collected with hashed names and
served by whitenoise with immutable caching, gunicorn, SQLite and in-process tasks, all in a
temporary folder that goes with the server."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import ROOT, BenchError
from benchmarks.harness.services import HOST, Service, child_command, free_port, run_captured

PASSWORD = "reach-" + secrets.token_urlsafe(12)
DROP = ("DATABASE_URL", "REDIS_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY")


@dataclass(frozen=True)
class Served:
    base: str
    projects: dict[str, str]  # kind: project id
    workers: dict[str, int]  # username: user id
    database: Path

    def answers_stored(self, worker: str) -> int:
        """The worker's answers the server has stored, read from its database."""
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            query = "SELECT count(*) FROM annotations_annotation WHERE worker_id = ?"
            return db.execute(query, (self.workers[worker],)).fetchone()[0]


def _env(tmp: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k not in DROP},
        "DJANGO_SETTINGS_MODULE": "sebenzai.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": f"sqlite:///{tmp / 'reach.sqlite3'}",
        "MEDIA_ROOT": str(tmp / "media"),
        "EXPORT_ROOT": str(tmp / "exports"),
        "STATIC_ROOT": str(tmp / "static"),
        # Plain HTTP on loopback: cookies without Secure, no HSTS.
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
    }


def _build(env: dict[str, str], *, tasks: int, workers: int) -> dict:
    manage = [sys.executable, "manage.py"]
    run_captured([*manage, "migrate", "--verbosity", "0"], env)
    run_captured([*manage, "collectstatic", "--noinput", "--verbosity", "0"], env)
    spec = {"tasks": tasks, "workers": workers, "password": PASSWORD}
    return json.loads(run_captured([*child_command("reach_seed"), json.dumps(spec)], env))


def _wait_up(base: str, server: Service) -> None:
    for _ in range(300):
        if not server.alive():
            raise BenchError(f"gunicorn exited; see {server.log}")
        try:
            urllib.request.urlopen(base + "/accounts/login/", timeout=2)  # noqa: S310
            return
        except OSError:
            time.sleep(0.2)
    raise BenchError(f"the server did not answer; see {server.log}")


@contextmanager
def reach_server(*, tasks: int, workers: int) -> Iterator[Served]:
    """Build, seed and serve; the server and its folder are gone when the block ends."""
    with tempfile.TemporaryDirectory(prefix="bench-reach-") as folder:
        tmp = Path(folder)
        env = _env(tmp)
        seed = _build(env, tasks=tasks, workers=workers)
        port = free_port()
        cmd = [sys.executable, "-m", "gunicorn", "sebenzai.wsgi", "-b", f"{HOST}:{port}"]
        cmd += ["--workers", "2", "--threads", "4", "--access-logfile", "-"]
        server = Service("gunicorn", cmd, env, tmp / "gunicorn.log", ROOT)
        try:
            base = f"http://{HOST}:{port}"
            _wait_up(base, server)
            yield Served(base, seed["projects"], seed["workers"], tmp / "reach.sqlite3")
        finally:
            server.stop()
