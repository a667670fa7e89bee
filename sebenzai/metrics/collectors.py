"""The Prometheus metrics: one histogram kept by each process, the rest read at scrape time.

Request latency is observed in the process that served the request. gunicorn runs several
worker processes, so when PROMETHEUS_MULTIPROC_DIR is set prometheus_client keeps the histogram
in files there, and a scrape of any worker sums every worker's (deploy/gunicorn.conf.py empties
the folder at start and marks a dead worker's files).

Everything else is the cluster's figure, not this process's: read from the database and the
broker when scraped, so every web node reports the same. A few indexed queries and one Redis
round trip (benchmarks/metrics_scrape.py measures them). A broker that does not answer costs at
most its short timeout and shows as ``sebenzai_broker_up 0``, a database that fails as
``sebenzai_database_up 0``; the scrape still answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import redis
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import CollectorRegistry, Histogram, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from annotations.models import Annotation, ScoreState
from exports.models import UNFINISHED, Export
from sebenzai import jobs
from sebenzai.observability.failures import broker_redis, failures_key, job_failures_local

from .tallies import answers_total

REQUEST_LATENCY = Histogram(
    "sebenzai_http_request_duration_seconds",
    "Time to answer a request, by URL pattern, method and status class.",
    ["route", "method", "status"],
    registry=None,  # registered per scrape (below), with the multiprocess collector or alone
)


class ClusterCollector:
    """The figures every web node reads from the shared database and broker."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "sebenzai_database_up", "1 when the database answered this scrape's queries, else 0."
        )
        try:
            figures = list(database_figures())
        except DatabaseError:  # the node still answers: the scrape says what is down
            figures = []
        up.add_metric([], 1 if figures else 0)
        yield up
        yield from figures
        yield from broker_figures()


def registry_for_scrape() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    if settings.PROMETHEUS_MULTIPROC_DIR:
        multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(ClusterCollector())
    return registry


def database_figures() -> Iterator[Metric]:
    """Answers (all, and created in the last minute), scoring lag and exports in flight; each an
    index range scan (created_at; the partial indexes on pending answers and unfinished
    exports). The all-time count is mostly cached (tallies.py)."""
    now = timezone.now()
    answers = Annotation.objects.all()
    yield CounterMetricFamily(
        "sebenzai_answers", "Answers submitted, all time.", value=answers_total(now=now)
    )
    yield GaugeMetricFamily(
        "sebenzai_answers_last_minute",
        "Answers submitted in the last 60 seconds.",
        value=answers.filter(created_at__gte=now - timedelta(seconds=60)).count(),
    )
    oldest = answers.filter(score_state=ScoreState.PENDING).aggregate(at=Min("created_at"))["at"]
    yield GaugeMetricFamily(
        "sebenzai_scoring_lag_seconds",
        "Age of the oldest answer waiting to be scored (0 when none waits).",
        value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
    )
    yield _exports_in_flight()


def _exports_in_flight() -> Metric:
    rows = dict(
        Export.objects.filter(state__in=UNFINISHED)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    family = GaugeMetricFamily(
        "sebenzai_exports_in_flight",
        "Exports queued (pending) or being built (running).",
        labels=["state"],
    )
    for state in UNFINISHED:
        family.add_metric([state.value], rows.get(state, 0))
    return family


def broker_figures() -> Iterator[Metric]:
    """Queue depth per queue, whether the broker answered, and failed jobs by name."""
    names = jobs.queue_names(settings.CELERY_TASK_DEFAULT_QUEUE)
    up = GaugeMetricFamily(
        "sebenzai_broker_up",
        "1 when the Celery broker answered this scrape; 0 when it did not or there is none.",
    )
    depth = GaugeMetricFamily(
        "sebenzai_queue_depth",
        "Jobs waiting on each Celery queue (absent when the broker did not answer).",
        labels=["queue"],
    )
    failed = CounterMetricFamily(
        "sebenzai_jobs_failed", "Celery jobs that failed, by job name.", labels=["job"]
    )
    read = _broker_read(names)
    if read is None:
        up.add_metric([], 0)
        yield up
        return
    lengths, failures = read
    up.add_metric([], 1 if settings.REDIS_URL else 0)
    for name, length in zip(names, lengths, strict=True):
        depth.add_metric([name], length)
    for job, count in sorted(failures.items()):
        failed.add_metric([job], count)
    yield from (up, depth, failed)


def _broker_read(names: list[str]) -> tuple[list[int], dict[str, int]] | None:
    """LLEN of each queue and the failure counts in one round trip; None when Redis does not
    answer. With no broker jobs run in-process: nothing waits, and failures are this process's."""
    if not settings.REDIS_URL:
        return [0] * len(names), job_failures_local()
    pipe = broker_redis(settings.REDIS_URL).pipeline(transaction=False)
    for name in names:
        pipe.llen(name)
    pipe.hgetall(failures_key(settings.CELERY_TASK_DEFAULT_QUEUE))
    try:
        *lengths, failures = pipe.execute()
    except redis.RedisError:
        return None
    return lengths, {job.decode(): int(count) for job, count in failures.items()}
