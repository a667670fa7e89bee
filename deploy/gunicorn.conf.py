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

and, for the metrics (sebenzai/metrics/collectors.py):

    PROMETHEUS_MULTIPROC_DIR  a folder where the workers keep the latency histogram, so that a
                              scrape of any worker sums them all (emptied here at start: the
                              files of a previous run would count twice)
    LOG_FORMAT                json or text (json unless DEBUG is on, as for the app): gunicorn's
                              own lines in the same format; a typo stops the server at once
"""

import os
from pathlib import Path

from gunicorn import glogging


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

_multiproc_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
# As in sebenzai/settings.py: json unless DEBUG is on.
_debug = os.environ.get("DEBUG", "").strip().lower() in ("1", "true", "yes", "on")
_log_format = os.environ.get("LOG_FORMAT", "").strip().lower() or ("text" if _debug else "json")
if _log_format not in ("json", "text"):
    raise SystemExit(f"LOG_FORMAT must be json or text, got {os.environ['LOG_FORMAT']!r}")


class JsonLogger(glogging.Logger):
    """gunicorn's own lines (a worker booted, timed out, killed) as JSON too, on the same
    stderr as the app's, wherever --log-file and --access-logfile send them."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        from sebenzai.observability.logs import JsonFormatter  # the server's folder is on sys.path

        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())


if _log_format == "json":
    logger_class = JsonLogger


def _multiproc_folder(path: str) -> Path:
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        writable = os.access(folder, os.W_OK | os.X_OK)
    except OSError:
        writable = False
    if not writable:
        raise SystemExit(f"PROMETHEUS_MULTIPROC_DIR must be a folder we can write, got {path!r}")
    return folder


if _multiproc_dir:
    _multiproc_folder(_multiproc_dir)

# The app's settings, read once in the master: a mistake is one line, not a worker that fails to
# boot with a traceback (the server's folder is on sys.path).
from sebenzai.startup import settings_or_exit  # noqa: E402

settings_or_exit()


def on_starting(server) -> None:
    """In the master, once: a new server starts its metrics from zero."""
    if _multiproc_dir:
        for stale in _multiproc_folder(_multiproc_dir).glob("*.db"):
            stale.unlink()


def child_exit(server, worker) -> None:
    """A worker ended (restarted, timed out, killed): its live gauges go; its counters and
    histograms stay in the folder and keep counting in the sums."""
    if _multiproc_dir:
        from prometheus_client import multiprocess  # only where the metrics folder is set

        multiprocess.mark_process_dead(worker.pid, _multiproc_dir)
