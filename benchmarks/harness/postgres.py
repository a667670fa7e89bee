"""The local PostgreSQL server: its address as command-line flags, and the databases a benchmark
creates afresh, clones from a template, analyzes and drops. Every benchmark's databases carry a
name of its own (``sebenzai_bench…``), never the app's (``sebenzai_main``, ``sebenzai``) or the
tests' (``test_…``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import psycopg2

from benchmarks.harness import BenchError


@dataclass(frozen=True)
class Postgres:
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Postgres:
        return cls(args.pg_host, args.pg_port, args.pg_user)

    def connect(self, dbname: str = "postgres"):
        """An autocommit connection: CREATE DATABASE and VACUUM refuse to run in a transaction."""
        conn = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, dbname=dbname, connect_timeout=3
        )
        conn.autocommit = True
        return conn

    def url(self, dbname: str) -> str:
        return f"postgres://{self.user}@{self.host}:{self.port}/{dbname}"


def postgres_arguments(parser: argparse.ArgumentParser) -> None:
    """``--pg-host``, ``--pg-port``, ``--pg-user``: the server's address (trust authentication)."""
    parser.add_argument("--pg-host", default=Postgres.host)
    parser.add_argument("--pg-port", type=int, default=Postgres.port)
    parser.add_argument("--pg-user", default=Postgres.user)


def postgres_check(pg: Postgres) -> None:
    """Raise BenchError, one line, when the server does not answer."""
    try:
        pg.connect().close()
    except psycopg2.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(
            f"PostgreSQL is not reachable at {pg.host}:{pg.port} as user {pg.user}: {reason}"
        ) from exc


def _execute(pg: Postgres, statements: list[str], dbname: str = "postgres") -> None:
    conn = pg.connect(dbname)
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def database_recreate(pg: Postgres, name: str, *, template: str | None = None) -> None:
    """Drop ``name`` (closing its connections) and create it empty, or as a copy of ``template``."""
    create = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    _execute(pg, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', create])


def database_drop(pg: Postgres, name: str) -> None:
    _execute(pg, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


def database_analyze(pg: Postgres, name: str, *, vacuum: bool = False) -> None:
    """Planner statistics, as autovacuum would leave them on a live server."""
    _execute(pg, ["VACUUM ANALYZE" if vacuum else "ANALYZE"], name)


def server_setting(pg: Postgres, name: str) -> str:
    """``SHOW name``: e.g. ``server_version``, ``autovacuum``."""
    conn = pg.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"SHOW {name}")
            return cur.fetchone()[0]
    finally:
        conn.close()
