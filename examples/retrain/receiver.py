"""Receives Sebenzai's "export ready" webhook and hands each verified message to the job.

Standard library only: ``http.server``. A delivery is accepted when its ``X-Sebenzai-Signature``
is ``sha256=`` + HMAC-SHA256 of ``"<X-Sebenzai-Timestamp>." + body`` under the project's webhook
secret (compared in constant time) and its timestamp is within ``TOLERANCE`` seconds of now (an
old, replayed delivery is refused). Deliveries are at least once: a repeat of an
``X-Sebenzai-Delivery`` id is answered 200 and not handed on again.

The receiver answers at once (202) and runs the job in a thread: the platform cuts an attempt
off after 15 s and retries, and training takes longer than that.

    SEBENZAI_URL=… SEBENZAI_TOKEN=… SEBENZAI_WEBHOOK_SECRET=… python receiver.py
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE = 300  # seconds either way between the delivery's timestamp and our clock
MAX_BODY = 64 * 1024  # the message is small; refuse anything larger before reading it
EVENT_EXPORT_READY = "export.ready"

log = logging.getLogger("retrain.receiver")
OnMessage = Callable[[dict[str, Any]], None]


def signature_valid(
    *, secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None
) -> bool:
    """True when ``signature`` is the platform's for this timestamp and body, and the
    timestamp is fresh. Constant-time compare."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent_at) > TOLERANCE:
        return False
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + mac.hexdigest(), signature)


class _Deliveries:
    """Delivery ids already handed on (kept in memory: persist them if the receiver restarts
    and must not train twice)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def first_time(self, delivery: str) -> bool:
        with self._lock:
            if delivery in self._seen:
                return False
            self._seen.add(delivery)
            return True


class WebhookHandler(BaseHTTPRequestHandler):
    server: WebhookServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._answer(413)
        body = self.rfile.read(length)
        if not signature_valid(
            secret=self.server.secret,
            timestamp=self.headers.get("X-Sebenzai-Timestamp", ""),
            body=body,
            signature=self.headers.get("X-Sebenzai-Signature", ""),
        ):
            return self._answer(401)
        message = json.loads(body)
        if message.get("event") != EVENT_EXPORT_READY:
            return self._answer(204)  # signed but not for us: do not make the platform retry
        if not self.server.deliveries.first_time(self.headers.get("X-Sebenzai-Delivery", "")):
            return self._answer(200)
        self.server.on_message(message)
        return self._answer(202)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        log.info(format, *args)


class WebhookServer(ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], *, secret: str, on_message: OnMessage) -> None:
        super().__init__(address, WebhookHandler)
        self.secret, self.on_message, self.deliveries = secret, on_message, _Deliveries()


def job_in_thread(run: Callable[[dict[str, Any]], Any]) -> OnMessage:
    """Run the job on each message in a thread of its own, logging its report or its error."""

    def start(message: dict[str, Any]) -> None:
        def work() -> None:
            try:
                log.info("done: %s", run(message))
            except Exception:
                log.exception("export %s: the job failed", message.get("export"))

        threading.Thread(target=work, name=f"retrain-{message.get('export')}").start()

    return start


def main() -> None:
    from job import Config, run  # beside this file; imported here so the tests need no torch

    logging.basicConfig(level=logging.INFO)
    config = Config.from_env()
    address = (
        os.environ.get("RETRAIN_HOST", "127.0.0.1"),
        int(os.environ.get("RETRAIN_PORT", "8080")),
    )
    server = WebhookServer(
        address,
        secret=os.environ["SEBENZAI_WEBHOOK_SECRET"],
        on_message=job_in_thread(lambda message: run(message, config)),
    )
    log.info("listening on http://%s:%d/", *address)
    server.serve_forever()


if __name__ == "__main__":
    main()
