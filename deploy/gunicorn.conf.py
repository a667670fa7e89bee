"""gunicorn's settings wherever Sebenzai's web process runs: the Dockerfile's command, the compose
file's, and natively, always as ``gunicorn -c deploy/gunicorn.conf.py sebenzai.wsgi``.

gthread workers: each worker's threads keep the clients' connections open, and behind the
buffering proxy no thread waits on a slow client. Measured against sync workers on the worker API
(benchmarks/api_throughput.py --gunicorn-class sync,gthread): 1.09x the submissions/s at the same
CPU per answer. Two workers per core, since a request spends much of its time waiting on
PostgreSQL. Sized by the environment (flags on the command line still win):

    WEB_BIND     address:port to listen on (default 0.0.0.0:8000)
    WEB_WORKERS  processes (default 4)
    WEB_THREADS  threads per process (default 4)
    WEB_TIMEOUT  seconds a request may take before its worker is restarted (default 60)
"""

import os


def _whole(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = _whole("WEB_WORKERS", 4)
threads = _whole("WEB_THREADS", 4)
timeout = _whole("WEB_TIMEOUT", 60)
