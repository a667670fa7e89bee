"""The production set-up on loopback: the application's environment, its Redis database, and
gunicorn plus one Celery worker started over one database and stopped on any exit."""

from __future__ import annotations

import argparse
import http.client
import os
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from benchmarks.harness import BenchError
from benchmarks.harness.postgres import Postgres, postgres_check
from benchmarks.harness.services import HOST, Service, free_port, log_tail
from benchmarks.harness.usage import cpu_seconds
from benchmarks.harness.venv import VENV
from sebenzai import jobs

ROLES = ("gunicorn", "postgres", "celery", "redis", "client", "other")


def redis_client(args: argparse.Namespace) -> redis.Redis:
    return redis.Redis(
        host=args.redis_host,
        port=args.redis_port,
        db=args.redis_db,
        socket_timeout=3,
        socket_connect_timeout=3,
    )


def services_check(args: argparse.Namespace) -> None:
    """BenchError, one line, unless PostgreSQL and Redis both answer."""
    postgres_check(Postgres.from_args(args))
    try:
        redis_client(args).ping()
    except redis.RedisError as exc:
        raise BenchError(
            f"Redis is not reachable at {args.redis_host}:{args.redis_port}: {exc}"
        ) from exc


def app_env(
    args: argparse.Namespace, *, database: str, media_root: Path, secret_key: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    redis_url = f"redis://{args.redis_host}:{args.redis_port}/{args.redis_db}"
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "sebenzai.settings",
            "DATABASE_URL": Postgres.from_args(args).url(database),
            "REDIS_URL": redis_url,
            "CACHE_URL": redis_url,
            "SECRET_KEY": secret_key,
            # the clients answer at machine speed: measure the app, not the pace and rate limits
            # (the throttles still run, and still cost their cache round trip)
            "MIN_ANSWER_MS": "0",
            "THROTTLE_WORK": "1000000/min",
            "THROTTLE_SUBMIT": "1000000/min",
            "DEBUG": "0",
            "ALLOWED_HOSTS": HOST,
            "MEDIA_ROOT": str(media_root),
            "STATIC_ROOT": str(media_root.parent / "static"),
            "LOG_LEVEL": "WARNING",
            # As the compose file's web nodes: gunicorn's workers share the latency histogram
            # through files here (an older checkout without metrics ignores it).
            "PROMETHEUS_MULTIPROC_DIR": str(media_root.parent / "prometheus"),
            "PYTHONUNBUFFERED": "1",
            # The app under test comes first, ahead of the virtualenv's editable install.
            "PYTHONPATH": str(args.app_dir),
        }
    )
    return env


@dataclass
class Stack:
    """gunicorn + Celery worker over one database."""

    port: int
    gunicorn: Service
    celery: Service

    def stop(self) -> None:
        for service in (self.gunicorn, self.celery):
            service.stop()

    def cpu_seconds(self, database: str) -> dict[str, float]:
        """CPU time so far by role (``ROLES``): the two servers' process groups, PostgreSQL's
        work for ``database``, Redis, this client, everything else."""
        groups = {self.gunicorn.proc.pid: "gunicorn", self.celery.proc.pid: "celery"}
        return cpu_seconds(groups, database, ROLES)


STACKS: list[Stack] = []  # live stacks, stopped on any exit


def _gunicorn_command(args: argparse.Namespace, port: int) -> list[str]:
    command = [
        str(VENV / "gunicorn"),
        "sebenzai.wsgi",
        "-w",
        str(args.gunicorn_workers),
        "-k",
        args.gunicorn_class,
        "-b",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
    ]
    if args.gunicorn_class == "gthread":
        command += ["--threads", str(args.gunicorn_threads)]
    return command


def _celery_command(args: argparse.Namespace, label: str) -> list[str]:
    return [
        str(VENV / "celery"),
        "-A",
        "sebenzai",
        "worker",
        "-Q",
        ",".join(jobs.queue_names("celery")),  # every kind of job, as one compose worker would
        "-c",
        str(args.celery_concurrency),
        "--pool=prefork",
        "-l",
        "INFO",
        "-n",
        f"bench-{label}@%h",
        "--without-gossip",
        "--without-mingle",
    ]


def stack_start(args: argparse.Namespace, env: dict[str, str], logdir: Path, label: str) -> Stack:
    """Start both servers and wait (60 s at most) until gunicorn answers and Celery is ready."""
    port, app = free_port(), args.app_dir
    gunicorn_log, celery_log = logdir / f"gunicorn-{label}.log", logdir / f"celery-{label}.log"
    gunicorn = Service("gunicorn", _gunicorn_command(args, port), env, gunicorn_log, app)
    celery = Service("celery", _celery_command(args, label), env, celery_log, app)
    stack = Stack(port, gunicorn, celery)
    STACKS.append(stack)
    deadline = time.monotonic() + 60
    http_ready = celery_ready = False
    while not (http_ready and celery_ready):
        for service in (gunicorn, celery):
            if not service.alive():
                raise BenchError(
                    f"{service.name} exited at start; see {service.log}:\n{log_tail(service.log)}"
                )
        if not http_ready:
            http_ready = http_answers(port)
        if not celery_ready:
            celery_ready = " ready." in celery.log.read_text(errors="replace")
        if time.monotonic() > deadline:
            raise BenchError(
                f"servers not ready after 60 s (gunicorn {http_ready}, celery {celery_ready}); logs in {logdir}"
            )
        time.sleep(0.2)
    return stack


def http_answers(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", "/api/v1/me/")
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


def stacks_stop() -> None:
    while STACKS:
        STACKS.pop().stop()
