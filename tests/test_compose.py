"""docker-compose.yml stays true to the code: every queue of sebenzai/jobs.py has exactly one
worker service, beat runs once, two web nodes share the object store, and every variable the
compose file sets is one the code reads."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from sebenzai import jobs

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
# Where the processes read their environment: the settings and gunicorn's config.
READERS = [ROOT / "sebenzai" / "settings.py", ROOT / "sebenzai" / "object_store_settings.py",
           ROOT / "deploy" / "gunicorn.conf.py"]  # fmt: skip


def _celery(kind: str) -> dict[str, list[str]]:
    """The services running ``celery -A sebenzai <kind>``, with their command's words."""
    found = {}
    for name, service in SERVICES.items():
        words = (
            shlex.split(service.get("command", ""))
            if isinstance(service.get("command"), str)
            else []
        )
        if words[:4] == ["celery", "-A", "sebenzai", kind]:
            found[name] = words
    return found


def test_every_queue_has_exactly_one_worker_service():
    consumed = []
    for words in _celery("worker").values():
        consumed += words[words.index("-Q") + 1].split(",")
    assert sorted(consumed) == sorted(jobs.queue_names("celery"))


def test_beat_runs_once():
    beats = _celery("beat")
    assert len(beats) == 1
    (name,) = beats
    assert SERVICES[name].get("deploy", {}).get("replicas", 1) == 1


def test_two_web_nodes_share_the_object_store_behind_the_proxy():
    web = SERVICES["web"]
    assert web["deploy"]["replicas"] >= 2
    env = COMPOSE["x-app"]["environment"]
    assert env["S3_ENDPOINT_URL"].endswith("http://minio:9000}")
    assert "S3_BUCKET" in SERVICES["bucket"]["environment"]
    assert "mc mb --ignore-existing" in " ".join(SERVICES["bucket"]["entrypoint"])
    assert SERVICES["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(web["healthcheck"]["test"])


def test_migrations_run_once_before_the_web_nodes_and_workers():
    assert shlex.split(SERVICES["migrate"]["command"])[-2:] == ["migrate", "--noinput"]
    assert SERVICES["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "migrate" not in SERVICES["web"]["command"]


def test_every_variable_the_compose_file_sets_is_read_by_the_code():
    source = "\n".join(path.read_text() for path in READERS)
    read = set(re.findall(r'env_\w+\(\s*"([A-Z0-9_]+)"', source))
    read |= set(re.findall(r'environ(?:\.get)?\(\s*"([A-Z0-9_]+)"', source))
    for name in [*COMPOSE["x-app"]["environment"], *SERVICES["web"]["environment"]]:
        assert name in read, f"{name} is set in docker-compose.yml but read nowhere"


def test_the_web_nodes_sum_their_workers_metrics_in_a_folder_of_their_own():
    web = SERVICES["web"]
    assert web["environment"]["PROMETHEUS_MULTIPROC_DIR"] in web["tmpfs"]
    assert web["environment"]["DATABASE_URL"] == COMPOSE["x-app"]["environment"]["DATABASE_URL"]
