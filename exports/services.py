"""The life of an export: requested (or joined), built by a Celery job, announced, downloaded."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from annotations.models import Project
from sebenzai import jobs
from sebenzai.celery import app as celery_app
from sebenzai.common.broker import job_send_on_commit
from sebenzai.common.errors import DomainError
from sebenzai.common.object_store import object_missing, on_object_store, store_down

from .dataset import DatasetResult, EmptyExport, dataset_upload, dataset_write
from .diff import versions_diff
from .models import UNFINISHED, Export, ExportState
from .options import ExportOptions
from .selectors import tasks_exportable
from .store import stored_open, uploads_abandoned_abort
from .webhooks import deliveries_create, deliveries_enqueue, deliveries_lost

logger = logging.getLogger(__name__)

BUILD_SOFT_LIMIT, BUILD_TIME_LIMIT = 1500, 1700  # seconds, under the broker's visibility timeout
STALE_AFTER = BUILD_TIME_LIMIT + 60  # a build "running" longer than this has lost its worker
MAX_ATTEMPTS = 3  # builds started for one export before it is failed (docs/reliability.md P7)
LOST_AFTER = 120  # a pending export or due delivery older than this lost its message
EXPORTS_PREFIX = "exports/"  # on the object store


def export_root() -> Path:
    """EXPORT_ROOT, or ``<MEDIA_ROOT>/exports``: never served directly, only by the download
    view. Read at call time, so a test's MEDIA_ROOT is honoured."""
    return Path(settings.EXPORT_ROOT or Path(settings.MEDIA_ROOT) / "exports")


def export_file(*, export: Export) -> Path:
    """The zip's place, made from ids only (nothing a user typed)."""
    return export_root() / str(export.project_id) / f"{export.pk}.zip"


def export_name(*, export: Export) -> str:
    """The zip's storage name on the object store (S3_PREFIX goes in front), from ids only."""
    return f"{EXPORTS_PREFIX}{export.project_id}/{export.pk}.zip"


def _enqueue_build(export_id: str) -> None:
    job_send_on_commit(jobs.EXPORT_BUILD, export_id)


def export_request(
    *,
    project: Project,
    user: AbstractBaseUser,
    options: ExportOptions,
    url_for: Callable[[str], str],
) -> tuple[Export, bool]:
    """Start an export of ``project``, or join the one already pending or running with the same
    options (docs/reliability.md P9: concurrent requests coalesce). Returns the export and whether it is
    new. ``url_for`` turns an export id into the absolute download URL the webhook will carry.
    Raises EmptyExport when the project has no accepted task."""
    if not tasks_exportable(project=project, states=options.states).exists():
        raise EmptyExport("The project has no accepted tasks to export.")
    with transaction.atomic():
        # The project row lock serialises version numbers and the coalescing check.
        Project.objects.select_for_update().filter(pk=project.pk).first()
        for existing in Export.objects.filter(project=project, state__in=UNFINISHED):
            if existing.format == options.format and existing.options == options.as_dict():
                return existing, False
        latest = Export.objects.filter(project=project).aggregate(v=Max("version"))["v"] or 0
        export = Export.objects.create(
            project=project,
            requested_by=user,
            version=latest + 1,
            format=options.format,
            options=options.as_dict(),
        )
        export.download_url = url_for(str(export.pk))[:500]
        export.save(update_fields=["download_url"])
        _enqueue_build(str(export.pk))
    return export, True


def _claim(export_id: str) -> bool:
    """Mark the export running for this worker. A duplicate message finds it running (or done)
    and leaves it; a build whose worker died is taken over once it is stale."""
    now = timezone.now()
    stale = now - timedelta(seconds=STALE_AFTER)
    claimable = Q(state=ExportState.PENDING) | Q(state=ExportState.RUNNING, started_at__lt=stale)
    return bool(
        Export.objects.filter(claimable, pk=export_id, attempts__lt=MAX_ATTEMPTS).update(
            state=ExportState.RUNNING, started_at=now, attempts=F("attempts") + 1
        )
    )


def export_build(*, export_id: str) -> Export | None:
    """Build the export's zip if this worker can claim it; None when it could not. Safe to run
    twice: the same inputs write the same bytes to the same place, replaced atomically.

    A zip whose sha256 equals that of the previous ready version of the same format is recorded
    as ``identical_to`` that version and announced to no webhook: nothing new to train on.

    With the object store down, the export goes back to pending for a retry (the caller's, or
    the sweeper's) and is failed only once MAX_ATTEMPTS builds have been started."""
    if not _claim(export_id):
        return None
    export = Export.objects.select_related("project").get(pk=export_id)
    try:
        result = _zip_write(export)
    except DomainError as exc:
        return _fail(export, exc.code, exc.message)
    except SoftTimeLimitExceeded:
        return _fail(export, "export_timeout", "The export took too long and was stopped.")
    except Exception as exc:
        if store_down(exc):
            return _store_down(export, exc)
        logger.exception("export %s failed", export_id)
        return _fail(export, "export_failed", "The export failed on our side; it has been logged.")
    previous = _previous_version(export)
    identical_to = previous.version if previous and previous.sha256 == result.sha256 else None
    with transaction.atomic():
        Export.objects.filter(pk=export.pk).update(
            state=ExportState.READY,
            counts=result.counts,
            size=result.size,
            sha256=result.sha256 or "",
            manifest_sha256=result.manifest_sha256,
            health=result.health or {},
            diff=_diff(export, previous, result),
            identical_to=identical_to,
            finished_at=timezone.now(),
            error_code="",
            error_message="",
        )
        export.refresh_from_db()
        if identical_to is None:
            deliveries_enqueue(deliveries_create(export=export))
    return export


def _zip_write(export: Export) -> DatasetResult:
    """The zip under its final name: on the object store when one is configured, else a file
    under export_root() (moved into place once complete)."""
    options = ExportOptions.from_dict(export.format, export.options)
    work_parent = export_root() / ".tmp"
    if on_object_store():
        name = export_name(export=export)
        return dataset_upload(
            project=export.project, options=options, name=name, work_parent=work_parent
        )
    return dataset_write(
        project=export.project,
        options=options,
        out=export_file(export=export),
        as_zip=True,
        force=True,
        work_parent=work_parent,
    )


def _store_down(export: Export, error: BaseException) -> Export:
    """The object store did not answer: this attempt is over and nothing was published (the
    upload was aborted). The export waits, pending, for the job's retry (or the sweeper's);
    after MAX_ATTEMPTS it fails with a readable error."""
    logger.warning("export %s: the file store is unavailable (attempt %s): %s",
                   export.pk, export.attempts, error)  # fmt: skip
    if export.attempts >= MAX_ATTEMPTS:
        message = (
            f"The file store did not answer in {MAX_ATTEMPTS} attempts; "
            "request the export again once it is back."
        )
        return _fail(export, "store_unavailable", message)
    Export.objects.filter(pk=export.pk, state=ExportState.RUNNING).update(
        state=ExportState.PENDING, error_code="store_unavailable",
        error_message="The file store did not answer; the export will be tried again.",
    )  # fmt: skip
    export.refresh_from_db()
    return export


def _previous_version(export: Export) -> Export | None:
    """The latest ready export of the same project and format before this one."""
    earlier = Export.objects.filter(
        project_id=export.project_id,
        format=export.format,
        state=ExportState.READY,
        version__lt=export.version,
    )
    return earlier.order_by("-version").first()


def _diff(export: Export, previous: Export | None, result: DatasetResult) -> dict | None:
    if previous is None:
        return None
    if not on_object_store():
        return versions_diff(
            previous=export_file(export=previous),
            current=result.path,
            previous_version=previous.version,
        )
    try:
        with (
            stored_open(export_name(export=previous)) as old,
            stored_open(str(result.path)) as new,
        ):
            return versions_diff(previous=old, current=new, previous_version=previous.version)
    except Exception as exc:
        # The zip is published already: a store that fails now costs the diff, not the export.
        if not (store_down(exc) or object_missing(exc)):
            raise
        return {"previous_version": previous.version, "unavailable": True}


def _fail(export: Export, code: str, message: str) -> Export:
    Export.objects.filter(pk=export.pk).update(
        state=ExportState.FAILED,
        error_code=code,
        error_message=message[:300],
        finished_at=timezone.now(),
    )
    export.refresh_from_db()
    return export


def export_sweep() -> dict[str, int]:
    """Re-enqueue exports and deliveries whose messages were lost, fail builds that died too
    often, and remove work folders that killed builds left behind (beat, every minute)."""
    now = timezone.now()
    lost = Export.objects.filter(
        state=ExportState.PENDING, created_at__lt=now - timedelta(seconds=LOST_AFTER)
    )
    stale = Export.objects.filter(
        state=ExportState.RUNNING, started_at__lt=now - timedelta(seconds=STALE_AFTER)
    )
    dead = stale.filter(attempts__gte=MAX_ATTEMPTS).update(
        state=ExportState.FAILED,
        error_code="export_failed",
        error_message="The export was interrupted too many times.",
        finished_at=now,
    )
    builds = [str(pk) for qs in (lost, stale) for pk in qs.values_list("pk", flat=True)[:100]]
    for export_id in builds:
        celery_app.tasks[jobs.EXPORT_BUILD].delay(export_id)
    deliveries = deliveries_lost(older_than_seconds=LOST_AFTER)
    for delivery_id in deliveries:
        celery_app.tasks[jobs.WEBHOOK_DELIVER].delay(delivery_id)
    return {
        "builds": len(builds),
        "failed": dead,
        "deliveries": len(deliveries),
        "work_folders": _work_folders_remove(),
        "uploads_aborted": _uploads_abandoned_abort(),
    }


def _uploads_abandoned_abort() -> int:
    """Multipart uploads of builds that were killed (a build aborts its own when it fails)."""
    if not on_object_store():
        return 0
    try:
        return uploads_abandoned_abort(prefix=EXPORTS_PREFIX, older_than_seconds=STALE_AFTER)
    except (BotoCoreError, ClientError) as exc:
        # Down, or a key not allowed to list uploads: the rest of the sweep goes on regardless
        # (a bucket lifecycle rule that aborts incomplete uploads does the same job).
        logger.warning("export sweep: old uploads not aborted: %s", exc)
        return 0


def _work_folders_remove() -> int:
    tmp = export_root() / ".tmp"
    if not tmp.is_dir():
        return 0
    cutoff = time.time() - STALE_AFTER
    old = [p for p in tmp.iterdir() if p.name.startswith(".export-") and p.stat().st_mtime < cutoff]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    return len(old)
