"""Servers the tests start as real processes on loopback: a free port, and an S3-compatible
object store (moto's server, a maintained S3 implementation for tests) that can be stopped and
started again on the same port to play a store that is down."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
S3_KEY_ID, S3_SECRET = "testing-key", "testing-secret"  # moto takes any credentials


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).close()  # noqa: S310 - loopback
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto_server did not answer on port {self.port} within {timeout:.0f} s")

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
