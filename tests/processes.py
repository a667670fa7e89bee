"""Servers the tests start as real processes on loopback: a free port, a web node run by the
production command, and an S3-compatible object store (moto's server, a maintained S3
implementation for tests) that can be stopped and started again on the same port to play a store
that is down."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
S3_KEY_ID, S3_SECRET = "testing-key", "testing-secret"  # moto takes any credentials


ROOT = Path(__file__).resolve().parents[1]
WEB_COMMAND = ["gunicorn", "-c", "deploy/gunicorn.conf.py", "sebenzai.wsgi"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _answers(url: str, process: subprocess.Popen, timeout: float) -> bool:
    """Wait until ``url`` answers 2xx while ``process`` runs; whether it did in ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 - loopback only
            return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    return False


class WebNode:
    """One web node as production runs it (``gunicorn -c deploy/gunicorn.conf.py sebenzai.wsgi``)
    on a loopback port, with the environment given; its log goes to ``log_path``."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.log_path = log_path
        self._env = {**env, "WEB_BIND": f"{HOST}:{self.port}", "WEB_WORKERS": str(workers)}
        self._process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [gunicorn, *WEB_COMMAND[1:]],
                cwd=ROOT,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its workers are stopped with it
            )
        if not _answers(f"{self.base_url}/healthz", self._process, timeout):
            self.stop()
            raise RuntimeError(
                f"gunicorn did not answer on {self.port}: {self.log_path.read_text()}"
            )

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=10)


class S3Server:
    """``moto_server`` on a port of its own; its buckets live as long as the process does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://{HOST}:{self.port}"
        self._process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> None:
        moto_bin = str(Path(sys.executable).with_name("moto_server"))
        self._process = subprocess.Popen(
            [moto_bin, "-H", HOST, "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not _answers(f"{self.endpoint}/moto-api/", self._process, timeout):
            self.stop()
            raise RuntimeError(f"moto_server did not answer on port {self.port} in {timeout:.0f} s")

    @property
    def running(self) -> bool:
        return self._process is not None

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def bucket_create(self, name: str) -> Bucket:
        import boto3  # only the tests that use the store pay for importing boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=S3_KEY_ID,
            aws_secret_access_key=S3_SECRET,
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=name)
        env = {
            "S3_BUCKET": name,
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_ACCESS_KEY_ID": S3_KEY_ID,
            "S3_SECRET_ACCESS_KEY": S3_SECRET,
            "S3_REGION": "us-east-1",
        }
        return Bucket(server=self, name=name, client=client, env=env)


@dataclass
class Bucket:
    """A bucket of the test's S3 server: ``client`` is boto3's, ``env`` the settings' variables
    that point a process (a gunicorn, a Celery worker) at it."""

    server: S3Server
    name: str
    client: Any
    env: dict[str, str]

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def snapshot(self) -> dict[str, bytes]:
        """Every object's bytes, by key."""
        get = self.client.get_object
        return {key: get(Bucket=self.name, Key=key)["Body"].read() for key in self.keys()}

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """The store down for the block: the server stopped, then started again on its port
        with this bucket as it was (moto keeps objects in memory only: they are put back)."""
        kept = self.snapshot()
        self.server.stop()
        try:
            yield
        finally:
            self.restore(kept)

    def restore(self, kept: dict[str, bytes]) -> None:
        """After the server was stopped: start it again with the bucket and ``kept`` in it."""
        if self.server.running:
            return
        self.server.start()
        self.client.create_bucket(Bucket=self.name)
        for key, data in kept.items():
            self.client.put_object(Bucket=self.name, Key=key, Body=data)
