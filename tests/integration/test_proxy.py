"""The reverse proxy of the production set-up (deploy/nginx/sebenzai.conf.template) in front of
gunicorn, both run here as docker-compose runs them, on loopback ports: clients sending an upload at
1 byte/s must not stall the API through the proxy (and do stall it without, the control), and the
proxy's body limits are the app's."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import Role
from accounts.services import user_create
from annotations.services.projects import project_create
from tests.helpers import png_bytes
from tests.integration.helpers import ROOT, worker_env
from tests.processes import free_port

TEMPLATE = ROOT / "deploy" / "nginx" / "sebenzai.conf.template"
COMPOSE = ROOT / "docker-compose.yml"
GUNICORN_THREADS = 2  # 1 worker x 2 threads: the smallest pool, so the control is sharp
SLOW_CLIENTS = 4 * GUNICORN_THREADS
TOO_LARGE = {
    "error": {
        "code": "request_too_large",
        "message": "The request body is too large.",
        "field": "body",
    }
}


def _nginx_binary() -> str | None:
    found = os.environ.get("NGINX") or shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


NGINX = _nginx_binary()
_MISSING = (
    "needs PostgreSQL: gunicorn runs in another process and must read the test's rows"
    if not settings.USING_POSTGRES
    else "nginx is not installed (scripts/install-nginx installs Debian's; NGINX=path picks one)"
    if NGINX is None
    else ""
)
needs_proxy_parts = pytest.mark.skipif(bool(_MISSING), reason=_MISSING or "all there")


# -- the shipped configuration ------------------------------------------------------------------


def _size(text: str) -> int:
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", text.lower()).groups()
    return int(number) * units[unit]


def _body_limits() -> tuple[int, dict[str, int]]:
    """The server-wide client_max_body_size, and those of the regex locations."""
    text = re.sub(r"#.*", "", TEMPLATE.read_text())
    server = re.search(r"server\s*\{", text).end()
    top, locations, depth, current = None, {}, 1, None
    for token in re.finditer(
        r"location\s+~\s+(\S+)\s*\{|\{|\}|client_max_body_size\s+(\S+);", text[server:]
    ):
        if token.group(1):
            current, depth = token.group(1), depth + 1
        elif token.group(0) == "{":
            depth += 1
        elif token.group(0) == "}":
            depth -= 1
            current = None if depth == 1 else current
        elif depth == 1:
            top = _size(token.group(2))
        elif current:
            locations[current] = _size(token.group(2))
    return top, locations


def test_proxy_body_limits_are_the_apps():
    """client_max_body_size is what ApiBodyLimitMiddleware lets through: JSON bodies everywhere,
    multipart on the routes that take files (images, prediction files, ONNX models), whose paths
    the locations must match."""
    top, locations = _body_limits()
    assert top == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    limits = settings.SEBENZAI
    multipart = max(
        limits["IMAGE_MAX_BYTES"] * settings.DATA_UPLOAD_MAX_NUMBER_FILES,
        limits["ARCHIVE_MAX_BYTES"],
    )
    assert set(locations.values()) == {multipart}
    for route in ("project-upload", "project-predictions", "project-models"):
        path = reverse(route, args=[uuid.uuid4()])
        assert any(re.search(pattern, path) for pattern in locations), route
    assert not any(re.search(pattern, reverse("project-list")) for pattern in locations)


def test_compose_puts_the_proxy_in_front():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert "ports" not in services["web"], "web must be reached only through the proxy"
    proxy = services["proxy"]
    assert proxy["environment"]["UPSTREAM"] == "web:8000"
    mount = f"./{TEMPLATE.relative_to(ROOT)}:/etc/nginx/templates/default.conf.template:ro"
    assert mount in proxy["volumes"]
    assert services["web"]["command"] == "gunicorn -c deploy/gunicorn.conf.py sebenzai.wsgi"


# -- the processes --------------------------------------------------------------------------------


def _gunicorn_command(port: int) -> list[str]:
    """docker-compose's web command, with this port and 1 worker x GUNICORN_THREADS threads
    (flags on the command line win over deploy/gunicorn.conf.py's settings)."""
    shell = yaml.safe_load(COMPOSE.read_text())["services"]["web"]["command"]
    command = shlex.split(shell)
    assert command[0] == "gunicorn", command
    sized = ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", str(GUNICORN_THREADS)]
    return [str(Path(sys.executable).with_name("gunicorn")), *sized, *command[1:]]


def _stop(process: subprocess.Popen, sig: int) -> None:
    """Stop a process this test started (in a session of its own), then its group if need be."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # with its children (gunicorn's, nginx's workers)
        process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout:.0f} s")


@pytest.fixture
def accounts(transactional_db):
    """A requester with a token and a project, committed: gunicorn reads them."""
    user = user_create(username="proxy_req", password="correct-horse-42", role=Role.REQUESTER)
    project = project_create(
        owner=user,
        data={
            "name": "proxy project",
            "kind": "classification",
            "labels": ["car", "taxi"],
            "redundancy_min": 1,
            "redundancy_max": 3,
            "acceptance_threshold": 0.7,
            "gold_ratio": 0.0,
        },
    )
    return Token.objects.create(user=user).key, project


@pytest.fixture
def app_port(accounts):
    port = free_port()
    env = {
        **worker_env(settings.REDIS_URL or ""),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "NUM_PROXIES": "1",
        "SECURE_PROXY_SSL_HEADER": "1",
    }
    process = subprocess.Popen(
        _gunicorn_command(port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, process, "gunicorn")
        yield port
    finally:
        _stop(process, signal.SIGINT)  # gunicorn's quick shutdown


@pytest.fixture
def proxy(app_port, tmp_path):
    """Debian's nginx with the shipped server block, rendered as the nginx image's entrypoint
    renders it, inside an http block whose pid, logs and temp paths are this test's."""
    port, root = free_port(), tmp_path / "nginx"
    root.mkdir()
    server = TEMPLATE.read_text()
    server = server.replace("${UPSTREAM}", f"127.0.0.1:{app_port}")
    server = server.replace("${LISTEN}", f"127.0.0.1:{port}")
    assert "${" not in re.sub(r"#.*", "", server)
    (root / "sebenzai.conf").write_text(server)
    temps = "\n".join(
        f"    {kind}_temp_path {root / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # nginx started by root would run its worker as "nobody", which cannot write in tmp_path
    user = "user root;\n" if os.geteuid() == 0 else ""
    (root / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {root / 'nginx.pid'};\n"
        f"error_log {root / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n    access_log {root / 'access.log'};\n{temps}\n"
        f"    include {root / 'sebenzai.conf'};\n}}\n"
    )
    command = [
        NGINX,
        "-p",
        str(root),
        "-c",
        str(root / "nginx.conf"),
        "-e",
        str(root / "error.log"),
    ]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [*command, "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, process, "nginx")
        yield {"port": port, "error_log": root / "error.log"}
    finally:
        _stop(process, signal.SIGTERM)  # nginx's fast shutdown


# -- clients --------------------------------------------------------------------------------------


class SlowUploads:
    """``count`` connections that send the headers of a big multipart upload, then its body one
    byte a second each; all closed after ``seconds`` at most, or on leaving the block."""

    def __init__(self, port: int, path: str, token: str, count: int, seconds: float):
        self.port, self.count, self.seconds = port, count, seconds
        self.head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Token {token}\r\n"
            "Content-Type: multipart/form-data; boundary=slowslowslow\r\n"
            "Content-Length: 10000000\r\n\r\n"
        ).encode()
        self.sockets: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._drip, daemon=True)

    def __enter__(self) -> SlowUploads:
        try:
            for _ in range(self.count):
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
                self.sockets.append(sock)
                sock.sendall(self.head)
        except BaseException:
            self._close()
            raise
        self.thread.start()
        return self

    def _drip(self) -> None:
        deadline = time.monotonic() + self.seconds
        while not self.stop.wait(1.0) and time.monotonic() < deadline:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.send(b"-")
        self._close()

    def _close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def still_open(self) -> int:
        """How many connections the server has neither answered nor closed."""
        waiting = 0
        for sock in self.sockets:
            try:
                sock.settimeout(0)
                sock.recv(1, socket.MSG_PEEK)  # an answer, or b"" if closed
            except BlockingIOError:
                waiting += 1
            except OSError:
                pass
        return waiting

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self._close()


def probe_me(port: int, token: str, timeout: float) -> float | None:
    """Seconds ``GET /api/v1/me/`` took to answer 200, or None if no answer within ``timeout``."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/api/v1/me/", headers={"Authorization": f"Token {token}"})
        response = conn.getresponse()
        body = response.read()
    except TimeoutError:
        return None
    finally:
        conn.close()
    assert response.status == 200, body
    return time.monotonic() - start


def raw_request(port: int, head: str, body: bytes = b"", timeout: float = 5.0):
    """Send ``head`` (request line and headers) and ``body``; return the response's status,
    headers and body, or None if nothing came within ``timeout``."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # the server may answer and close before the whole body is sent
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head.encode() + b"\r\n" + body)
        response = http.client.HTTPResponse(sock)
        try:
            response.begin()
        except TimeoutError:
            return None
        return response.status, response.headers, response.read()


# -- the tests ------------------------------------------------------------------------------------


@pytest.mark.integration
@needs_proxy_parts
def test_slow_uploads_stall_gunicorn_but_not_the_proxy(accounts, app_port, proxy):
    token, project = accounts
    upload = reverse("project-upload", args=[project.pk])
    assert probe_me(app_port, token, timeout=10) is not None  # warm: imports, connections

    # Through the proxy: SLOW_CLIENTS dribbling uploads, and /me/ answers within 1 s every time.
    with SlowUploads(proxy["port"], upload, token, SLOW_CLIENTS, seconds=10) as slow:
        time.sleep(1.0)
        latencies = []
        for _ in range(8):
            latencies.append(probe_me(proxy["port"], token, timeout=1.0))
            time.sleep(0.5)
        held = slow.still_open()
    shown = ", ".join("-" if t is None else f"{t * 1000:.0f}" for t in latencies)
    print(f"\n/me/ through nginx during {SLOW_CLIENTS} slow uploads (ms): {shown}")
    assert None not in latencies, latencies
    assert max(latencies) < 1.0, latencies
    assert held == SLOW_CLIENTS  # the proxy kept them waiting, it did not just drop them

    # Control, straight to gunicorn: the same clients take every thread and /me/ waits until
    # they go away (after 8 s).
    with SlowUploads(app_port, upload, token, SLOW_CLIENTS, seconds=8):
        time.sleep(1.0)
        stalled = probe_me(app_port, token, timeout=15.0)
    print(f"/me/ straight to gunicorn during the same (s): {stalled or 'no answer'}")
    assert stalled is None or stalled > 3.0, stalled
    assert probe_me(app_port, token, timeout=10) is not None  # and it recovers


@pytest.mark.integration
@needs_proxy_parts
def test_proxy_refuses_bodies_over_the_apps_limits(accounts, proxy):
    token, project = accounts
    port, log = proxy["port"], proxy["error_log"]
    head = f"Host: 127.0.0.1:{port}\r\nAuthorization: Token {token}\r\n"
    upload = reverse("project-upload", args=[project.pk])
    projects = reverse("project-list")
    json_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    _, locations = _body_limits()
    (upload_limit,) = set(locations.values())  # one multipart cap on every route taking files

    def refused(path: str, length: int, kind: str) -> None:
        status, headers, body = raw_request(
            port,
            f"POST {path} HTTP/1.1\r\n{head}Content-Type: {kind}\r\nContent-Length: {length}\r\n",
        )
        assert status == 413, (status, body)
        assert json.loads(body) == TOO_LARGE
        assert headers["Content-Type"] == "application/json"
        assert f"client intended to send too large body: {length} bytes" in log.read_text()

    # One byte over: refused by nginx itself (its log says so), in the API's error envelope,
    # before the body is sent.
    refused(projects, json_limit + 1, "application/json")
    refused(upload, upload_limit + 1, "multipart/form-data; boundary=x")
    # At the limit nginx waits for the body instead.
    at_limit = f"POST {upload} HTTP/1.1\r\n{head}Content-Type: multipart/form-data; boundary=x\r\n"
    assert raw_request(port, at_limit + f"Content-Length: {upload_limit}\r\n", timeout=1.0) is None

    # A chunked body (no Content-Length for the app's middleware to read) is counted too.
    chunk = b"x" * 65536
    chunks = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * (json_limit // len(chunk) + 2)
    status, _, body = raw_request(
        port,
        f"POST {projects} HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n",
        chunks + b"0\r\n\r\n",
    )
    assert status == 413, (status, body)
    assert json.loads(body) == TOO_LARGE
    assert "client intended to send too large chunked body" in log.read_text()

    # A JSON body of exactly the limit reaches the app, and so does an ordinary one.
    data = {
        "name": "padded",
        "kind": "classification",
        "labels": ["car", "taxi"],
        "redundancy_min": 1,
        "redundancy_max": 3,
    }
    for name, size in (("padded", json_limit), ("small", 0)):
        body = json.dumps({**data, "name": name}).encode()
        body += b" " * (size - len(body))
        status, _, answer = raw_request(
            port,
            f"POST {projects} HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n",
            body,
        )
        assert status == 201, answer

    # A small multipart upload passes through and becomes a task.
    boundary = "proxyboundary"
    image = png_bytes(seed=7)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="images"; filename="a.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, answer = raw_request(
        port,
        f"POST {upload} HTTP/1.1\r\n{head}Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n",
        body,
    )
    assert status == 201, answer
    assert json.loads(answer)["created"] == 1, answer
