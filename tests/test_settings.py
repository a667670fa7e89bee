"""Configuration that keeps the pipeline safe (docs/reliability.md rows P4, K1)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def test_the_broker_visibility_timeout_exceeds_every_time_limit_and_backoff():
    from sebenzai.celery import app

    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > settings.CELERY_TASK_TIME_LIMIT
    # the scoring task retries with an exponential backoff: its longest wait is read from the
    # task itself, so raising it there fails here
    score = app.tasks["consensus.score"]
    assert score.autoretry_for
    assert score.retry_backoff
    assert 0 < score.retry_backoff_max < visibility
    assert (score.time_limit or settings.CELERY_TASK_TIME_LIMIT) < visibility
    for task in app.tasks.values():
        assert visibility > (getattr(task, "time_limit", None) or 0), task.name
        assert visibility > (getattr(task, "retry_backoff_max", None) or 0), task.name
        assert visibility > (getattr(task, "default_retry_delay", None) or 0), task.name
    beat_periods = [entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert all(period >= 60 for period in beat_periods)  # no job enqueued faster than it runs


def test_a_job_lost_with_its_worker_is_redelivered():
    """acks_late plus reject-on-worker-lost: a job whose worker process dies goes back on the
    queue instead of being acknowledged and lost (docs/reliability.md P1)."""
    from sebenzai.celery import app

    assert settings.CELERY_TASK_ACKS_LATE
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    # each process reserves one job at a time, so none waits unacknowledged behind a long one
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    # and the app really reads them (the CELERY_ namespace)
    assert app.conf.task_acks_late
    assert app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    for name in ("consensus.score", "consensus.rescore_project", "exports.build"):
        if name in app.tasks:
            assert app.tasks[name].acks_late, name
    assert app.tasks["consensus.score"].acks_late


def test_nothing_is_ever_pickled_on_the_wire():
    assert settings.CELERY_ACCEPT_CONTENT == ["json"]
    assert settings.CELERY_TASK_SERIALIZER == settings.CELERY_RESULT_SERIALIZER == "json"


def _run_settings(env: dict, setting: str = "DEBUG") -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")
    }
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"print(getattr(settings, {setting!r}, None))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "sebenzai.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _run_settings({})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    "key", ["x" * 60, "short-but-random-Q7#kd93", "django-insecure-" + "Q7#kd93nf0qpa9x2mvz8" * 3]
)
def test_production_refuses_a_weak_secret_key(key):
    result = _run_settings({"SECRET_KEY": key})
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


def test_manage_py_says_a_configuration_mistake_in_one_line():
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "sebenzai.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip() == "error: SECRET_KEY must be set when DEBUG is off."


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("MIN_ANSWER_MS", "fast", "error: MIN_ANSWER_MS must be a whole number, not 'fast'."),
        ("SUSPEND_GOLD_ACCURACY", "half", "error: SUSPEND_GOLD_ACCURACY must be a number, not 'half'."),
    ],
)  # fmt: skip
def test_a_mistyped_number_is_named_in_one_line(variable, value, line):
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "sebenzai.settings", "DEBUG": "1", variable: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip() == line


def test_debug_is_off_unless_asked_for():
    assert (
        _run_settings({"SECRET_KEY": "Q7#kd93nf0qpa9x2mvz81lk4n6b0w" * 2}).stdout.strip() == "False"
    )


# Set by the test run itself (the browser tests need the last one), never by a deployment.
TEST_ONLY_VARIABLES = ("DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")


def test_production_settings_pass_the_deploy_check():
    env = {
        "SECRET_KEY": "p" * 20 + "-Q7#kd93nf0qpa9x2mvz81lk4n6b0w",
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_HSTS_SECONDS": "3600",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "SECURE_HSTS_PRELOAD": "1",
    }
    clean = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_VARIABLES}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "sebenzai.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def _deploy_check(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_VARIABLES}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "sebenzai.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout + result.stderr


def test_production_sends_hsts_without_being_asked():
    output = _deploy_check({"SECRET_KEY": "p" * 20 + "-Q7#kd93nf0qpa9x2mvz81lk4n6b0w"})
    assert "security.W004" not in output


def test_the_proxys_https_header_is_trusted_only_when_configured():
    key = {"SECRET_KEY": "p" * 20 + "-Q7#kd93nf0qpa9x2mvz81lk4n6b0w"}
    off = _run_settings(key, "SECURE_PROXY_SSL_HEADER")
    on = _run_settings({**key, "SECURE_PROXY_SSL_HEADER": "1"}, "SECURE_PROXY_SSL_HEADER")
    assert off.stdout.strip() == "None"
    assert on.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"
