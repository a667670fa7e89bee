"""Reads for exports. Task rows stream in chunks (a server-side cursor on PostgreSQL), so an
export of any size holds one chunk of rows at a time."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from annotations.models import Project, Task, TaskState

from .models import Export, WebhookDelivery

ROW_CHUNK = 2000
ROW_FIELDS = (
    "task_id",  # the id as text (see task_rows_for_export)
    "sha256",
    "image",
    "image_format",
    "width",
    "height",
    "accepted_label",
    "confidence",
    "answers_count",
    "accepted_by_model",
    "consensus__method",  # how the label was accepted; None where no consensus row exists
    "group_sequence",  # the upload's group metadata and the frame's video (see split.group_key)
    "group_camera",
    "video_sha256",
)


class TaskRow(NamedTuple):
    id: str
    sha256: str
    image: str
    image_format: str
    width: int
    height: int
    label: str | None  # the accepted label as JSON text, decoded by the reader
    confidence: float | None
    answers: int
    by_model: bool  # accepted on a model's word, no people asked (auto-accept)
    method: str | None  # ConsensusResult.method: "review_…" when an admin settled it
    sequence: str | None  # metadata["group"]["sequence"]
    camera: str | None  # metadata["group"]["camera"]
    video: str | None  # metadata["video"]["sha256"]: the video a frame was sampled from


def tasks_exportable(
    *, project: Project, states: Iterable[str] = (TaskState.ACCEPTED,)
) -> QuerySet[Task]:
    """Tasks an export may hold: in the given states, and never gold (docs/reliability.md C1)."""
    return Task.objects.filter(project=project, state__in=list(states), is_gold=False)


def task_rows_for_export(*, project: Project, states: Iterable[str]) -> Iterator[TaskRow]:
    """Every exportable task in a stable order (by image sha256, unique in a project).

    The ORM builds the query; the rows are read through Django's chunked cursor without the
    ORM's per-row conversions, which cost more than the query itself at 100,000 rows. Ids come
    back as text, labels as JSON text. On PostgreSQL outside a transaction the cursor is
    declared WITH HOLD: one consistent snapshot, and no transaction held open for the length of
    the export (which would hold off a migration's table lock).
    """
    query = (
        tasks_exportable(project=project, states=states)
        .order_by("sha256")
        .annotate(
            task_id=Cast("id", TextField()),  # the database writes the text, not Python
            group_sequence=KT("metadata__group__sequence"),
            group_camera=KT("metadata__group__camera"),
            video_sha256=KT("metadata__video__sha256"),
        )
        .values_list(*ROW_FIELDS)
        .query
    )
    sql, params = query.sql_with_params()
    # PostgreSQL's text of a UUID is str(UUID); SQLite's is 32 hex digits, made the same here.
    make = TaskRow._make if connection.vendor == "postgresql" else _row_uuid_text
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        for rows in _chunks_fetched_ahead(cursor):
            yield from map(make, rows)


def _chunks_fetched_ahead(cursor: Any) -> Iterator[list[tuple]]:
    """The cursor's rows in chunks, the next chunk fetched on a thread while the caller works on
    this one: the database's time to produce it (a round trip per chunk on a server-side cursor)
    overlaps the export's work instead of adding to it. The driver lets go of the GIL while it
    waits. Two chunks are held at most; the thread is done before the cursor closes."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-rows") as pool:
        ahead = pool.submit(cursor.fetchmany, ROW_CHUNK)
        while rows := ahead.result():
            ahead = pool.submit(cursor.fetchmany, ROW_CHUNK)
            yield rows


def task_labels_left_out(*, project: Project, states: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """(state, the current consensus label or None) of every non-gold task in ``states``,
    streamed: the tasks an export leaves out because the crowd or an admin has not decided."""
    rows = Task.objects.filter(project=project, state__in=list(states), is_gold=False)
    return rows.values_list("state", "consensus__label").iterator(chunk_size=ROW_CHUNK)


def _row_uuid_text(row: tuple) -> TaskRow:
    return TaskRow(str(uuid.UUID(str(row[0]))), *row[1:])


def exports_visible(*, user: AbstractBaseUser) -> QuerySet[Export]:
    """Staff see every export; a requester those of their own projects."""
    exports = Export.objects.select_related("project")
    return exports if user.is_staff else exports.filter(project__owner=user)


def exports_of_project(*, project: Project) -> QuerySet[Export]:
    """A project's exports, newest first (the pagination's order)."""
    return Export.objects.filter(project=project).select_related("project")


def deliveries_of_project(*, project: Project) -> QuerySet[WebhookDelivery]:
    """The project's webhook delivery log; the caller has checked the user owns it."""
    return WebhookDelivery.objects.filter(export__project=project).select_related("export")
