#!/usr/bin/env python
"""Serving one task image: the local disk, S3 with MEDIA_DELIVERY=redirect, S3 streamed.

One gunicorn (deploy/gunicorn.conf.py, 1 worker x 2 threads) on loopback per set-up, the
embedded SQLite database in a temporary folder, and moto's S3 server (tests/processes.py) as the
store. One task holds a ~200 KB JPEG; its requester GETs /api/v1/tasks/<id>/image/ ``--requests``
times (after 5 unmeasured) on a kept-alive connection. The time is to the last byte of the image:
for a redirect, the 302 from the app and then the GET of the presigned URL from the store (its
own kept-alive connection, as a browser has). Reported: median and p95 in ms, and for redirects
the app's part alone (the 302), since a real store is not on loopback.

    .venv/bin/python benchmarks/image_serving.py [--requests 50]

Note that moto is a Python test server, slower than S3 or MinIO at sending bytes: the store's
part of a redirect is an upper bound here; the app's part is what the web nodes spend.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.processes import HOST, S3Server, free_port  # noqa: E402

SEED = """
import io, json, random
import django
django.setup()
from django.core.management import call_command
from PIL import Image
from rest_framework.authtoken.models import Token
from accounts.models import Role
from accounts.services import user_create
from annotations.services.intake import IncomingFile, tasks_create_from_files
from annotations.services.projects import project_create

call_command("migrate", verbosity=0)
rng = random.Random(7)
# Smooth noise: stored (intake re-encodes at quality 95) as a 1024x768 JPEG of ~200 KB.
noise = bytes(rng.randrange(256) for _ in range(60 * 45 * 3))
out = io.BytesIO()
Image.frombytes("RGB", (60, 45), noise).resize((1024, 768), Image.BICUBIC).save(out, "JPEG")
user = user_create(username="bench", password="correct-horse-battery-42", role=Role.REQUESTER)
data = {"name": "bench", "kind": "classification", "labels": ["a", "b"], "redundancy_min": 1,
        "redundancy_max": 1, "acceptance_threshold": 0.5, "gold_ratio": 0.0}
project = project_create(owner=user, data=data)
content = out.getvalue()
report = tasks_create_from_files(
    project=project, files=iter([IncomingFile("images[0]", "a.jpg", lambda: content)]))
print(json.dumps({"task": report.created[0], "token": Token.objects.create(user=user).key,
                  "bytes": len(content)}))
"""


def base_env(folder: Path, store: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "DATABASE_", "REDIS_"))}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "sebenzai.settings",
        "PYTHONPATH": str(ROOT),
        "SECRET_KEY": "benchmark-only-secret-key-not-for-production-use-0123456789",
        "ALLOWED_HOSTS": HOST,
        "DATABASE_URL": f"sqlite:///{folder}/db.sqlite3",
        "MEDIA_ROOT": str(folder / "media"),
        "SECURE_COOKIES": "false",
        **store,
    }


def seed(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SEED], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def gunicorn(env: dict[str, str], port: int) -> subprocess.Popen:
    binary = str(Path(sys.executable).with_name("gunicorn"))
    command = [binary, "-c", "deploy/gunicorn.conf.py", "sebenzai.wsgi"]
    env = {**env, "WEB_BIND": f"{HOST}:{port}", "WEB_WORKERS": "1", "WEB_THREADS": "2"}
    process = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            probe = http.client.HTTPConnection(HOST, port, timeout=2)
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def measure(port: int, seeded: dict, requests: int) -> tuple[list[float], list[float], int]:
    """Seconds to the image's last byte, and to the app's answer, per request; and bytes."""
    app = http.client.HTTPConnection(HOST, port, timeout=30)
    stores: dict[str, http.client.HTTPConnection] = {}
    headers = {"Authorization": f"Token {seeded['token']}", "Host": HOST}
    totals, apps, size = [], [], 0
    for index in range(requests + 5):
        started = time.perf_counter()
        app.request("GET", f"/api/v1/tasks/{seeded['task']}/image/", headers=headers)
        answer = app.getresponse()
        body = answer.read()
        answered = time.perf_counter()
        if answer.status == 302:
            body = _follow(stores, answer.getheader("Location"))
        elif answer.status != 200:
            raise SystemExit(f"the app answered {answer.status}: {body[:200]!r}")
        finished = time.perf_counter()
        if index >= 5:
            totals.append(finished - started)
            apps.append(answered - started)
        size = len(body)
    return totals, apps, size


def _follow(stores: dict[str, http.client.HTTPConnection], location: str) -> bytes:
    parts = urlsplit(location)
    if parts.netloc not in stores:
        stores[parts.netloc] = http.client.HTTPConnection(parts.netloc, timeout=30)
    stores[parts.netloc].request("GET", f"{parts.path}?{parts.query}")
    answer = stores[parts.netloc].getresponse()
    body = answer.read()
    if answer.status != 200:
        raise SystemExit(f"the store answered {answer.status}")
    return body


def ms(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    server = S3Server()
    server.start()
    rows = []
    try:
        bucket = server.bucket_create("bench-images")
        with tempfile.TemporaryDirectory() as disk_dir, tempfile.TemporaryDirectory() as s3_dir:
            disk_env = base_env(Path(disk_dir), {})
            s3_env = base_env(Path(s3_dir), bucket.env)
            setups = [
                ("local disk (streamed)", disk_env, seed(disk_env)),
                ("S3, redirect", {**s3_env, "MEDIA_DELIVERY": "redirect"}, None),
                ("S3, stream", {**s3_env, "MEDIA_DELIVERY": "stream"}, None),
            ]
            s3_seeded = seed(s3_env)
            for name, env, seeded in setups:
                seeded = seeded or s3_seeded
                port = free_port()
                process = gunicorn(env, port)
                try:
                    totals, apps, size = measure(port, seeded, args.requests)
                finally:
                    process.terminate()
                    process.wait(timeout=30)
                rows.append((name, size, totals, apps))
    finally:
        server.stop()
    report(rows, args.requests)


def report(rows: list, requests: int) -> None:
    print(f"GET /api/v1/tasks/<id>/image/, {requests} requests each, to the image's last byte")
    print(
        f"{'set-up':<24}{'bytes':>9}{'median ms':>11}{'p95 ms':>9}{'app median':>12}{'app p95':>9}"
    )
    for name, size, totals, apps in rows:
        print(
            f"{name:<24}{size:>9,}{ms(totals, 0.5):>11.1f}{ms(totals, 0.95):>9.1f}"
            f"{ms(apps, 0.5):>12.1f}{ms(apps, 0.95):>9.1f}"
        )
    print("app: until the app's own answer (for a redirect, the 302; the rest is the store)")


if __name__ == "__main__":
    main()
