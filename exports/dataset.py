"""Writing one snapshot of a project's accepted labels: read, split, write, list, publish.

Everything is written in a hidden work folder beside the destination and moved into place at the
end, so a run that fails or is killed leaves nothing at the destination (docs/reliability.md P9). Rows
stream from the database and every file is written as its task is read, so memory does not grow
with the project.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings

from annotations.models import Project
from sebenzai.common.errors import DomainError
from sebenzai.common.object_store import on_object_store

from .folder_staging import FolderStaging
from .left_out import left_out_count
from .manifest import MANIFEST, manifest_head, manifest_write
from .media import MediaIndex
from .options import ExportOptions
from .readahead import ReadAhead
from .records import ProjectInfo, Record, RecordReader, Skip, Tally
from .selectors import TaskRow, task_rows_for_export, tasks_exportable
from .staging import ImageUnavailable, Staging, ZipStaging
from .store import ZipUpload
from .store_images import StoreImages
from .uploading import UploadStaging
from .writers import WRITERS, Writer

Progress = Callable[[int, int], None]
PROGRESS_EVERY = 500
INDEX = "tasks.csv"
# Tasks: from this many, a zip's images are copied by a child process (staging.images_ahead).
# Its start (a Python interpreter: 0.2 s on a busy machine, overlapping the first batches) is
# not worth it for a smaller export.
IMAGES_AHEAD_FROM = 2000
AHEAD_BATCH = 1000  # tasks read ahead of the export, their images copied meanwhile
Entries = Iterator[tuple[TaskRow, Record | Skip]]  # each row, read: its record or why it is out


@dataclass(frozen=True)
class DatasetResult:
    path: Path  # the folder or zip; for an upload, the object's storage name
    counts: dict[str, Any]
    manifest_sha256: str
    size: int  # bytes of the zip, or of the files in the folder
    sha256: str | None = None  # of the zip
    health: dict[str, Any] | None = None  # the manifest's health report


class EmptyExport(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(code="empty_export", field="project", message=message)


def output_check(*, out: Path, as_zip: bool, force: bool) -> None:
    """Refuse a destination that holds something, unless ``force``; a zip is never a folder."""
    if not os.path.lexists(out):
        return
    if as_zip and out.is_dir() and not out.is_symlink():
        raise DomainError(code="output_exists", field="out", message=f"{out} is a folder.")
    empty = out.is_dir() and not out.is_symlink() and not any(out.iterdir())
    if not empty and not force:
        raise DomainError(
            code="output_exists",
            field="out",
            message=f"{out} exists and is not empty; choose another path or use --force.",
        )


def dataset_write(
    *,
    project: Project,
    options: ExportOptions,
    out: Path,
    as_zip: bool,
    force: bool = False,
    link_images: bool = True,
    work_parent: Path | None = None,
    progress: Progress | None = None,
) -> DatasetResult:
    """Write ``project``'s accepted labels as ``options.format`` to ``out`` — a folder, or a
    single zip file with ``as_zip`` — and return its counts and manifest hash.

    Nothing appears at ``out`` until the whole export is written. Raises DomainError:
    ``output_exists`` (unless ``force``), ``empty_export`` (no task passes the filters). With
    the object store configured, the images are read from it (its errors go up: botocore's).
    """
    output_check(out=out, as_zip=as_zip, force=force)
    total = _total(project, options)
    out.parent.mkdir(parents=True, exist_ok=True)
    parent = work_parent or out.parent  # on the same filesystem as out: the move is a rename
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=parent))
    try:
        store = StoreImages(work=work) if on_object_store() else None
        if as_zip:
            staging: Staging = ZipStaging(work, store=store)
        else:
            staging = FolderStaging(work, link_images=link_images, store=store)
        with staging:  # a failure stops the staging's worker threads before the folder goes
            written = _write_all(project, options, staging, progress, total)
        digest = staging.sha256 if isinstance(staging, ZipStaging) else None
        _publish(written.path, out, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return DatasetResult(
        out, written.counts, written.manifest_sha256, written.size, digest, written.health
    )


def dataset_upload(
    *, project: Project, options: ExportOptions, name: str, work_parent: Path
) -> DatasetResult:
    """Write the same zip as ``dataset_write`` into the object store under the storage name
    ``name``, streaming (a multipart upload, published only once complete; aborted on any
    failure, so nothing appears under ``name``). Images are read from the store. Raises what
    ``dataset_write`` raises, and botocore's errors."""
    total = _total(project, options)
    work_parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=work_parent))
    try:
        store = StoreImages(work=work)
        try:
            upload = ZipUpload(name)
        except BaseException:
            store.close()
            raise
        staging = UploadStaging(work, store=store, upload=upload)
        with staging:
            written = _write_all(project, options, staging, None, total)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return DatasetResult(
        written.path, written.counts, written.manifest_sha256, written.size, staging.sha256,
        written.health,
    )  # fmt: skip


def _total(project: Project, options: ExportOptions) -> int:
    total = tasks_exportable(project=project, states=options.states).count()
    if not total:
        raise EmptyExport("The project has no accepted tasks to export.")
    return total


def project_info(project: Project) -> ProjectInfo:
    """What the writers and the manifest need of the project."""
    return ProjectInfo(str(project.pk), project.name, project.kind, tuple(project.label_names))


@dataclass(frozen=True)
class _Written:
    path: Path  # the finished folder or zip, in the work folder
    counts: dict[str, Any]
    manifest_sha256: str
    size: int
    health: dict[str, Any]


def _write_all(
    project: Project,
    options: ExportOptions,
    staging: Staging,
    progress: Progress | None,
    total: int,
) -> _Written:
    info = project_info(project)
    tally = Tally(project=info, splits=options.active_splits)
    store = staging.store
    media = store.index if store is not None else MediaIndex(settings.MEDIA_ROOT)
    reader = RecordReader(project=info, options=options, media=media, tally=tally)
    writer = WRITERS[options.format](
        staging=staging, project=info, options=options, scratch=staging.work
    )
    left_out = left_out_count(project=project, info=info, exported_states=options.states)
    rows = task_rows_for_export(project=project, states=options.states)
    ahead = writer.images_only and total >= IMAGES_AHEAD_FROM and staging.images_ahead()
    # Objects are fetched ahead by the store's reader (closed with the staging); files are
    # brought into the page cache.
    warming: AbstractContextManager[ReadAhead | StoreImages]
    warming = nullcontext(store) if store is not None else ReadAhead(media)
    with warming as ahead_of_export:
        read = _read_ahead if ahead else _read_each
        entries = read(ahead_of_export.rows(rows), reader, writer, staging)
        _write_tasks(entries, writer, tally, staging, progress, total)
    staging.close()
    head = manifest_head(
        project=info, options=options, tally=tally, left_out=left_out, described=writer.describe()
    )
    # Written while the last labels files are still being deflated: it needs only their hashes.
    with staging.open_manifest(MANIFEST) as manifest:
        manifest_write(out=manifest, head=head, ledger=staging.ledger)
    path, size = staging.finish()
    return _Written(path, head["counts"], staging.manifest_sha256, size, head["health"])


def _write_tasks(
    entries: Entries,
    writer: Writer,
    tally: Tally,
    staging: Staging,
    progress: Progress | None,
    total: int,
) -> None:
    """One pass over the rows, read into records (or the reason each is skipped): each task's
    files are written in turn."""
    with staging.open(INDEX) as index_file:
        index = csv.writer(index_file, lineterminator="\n")
        index.writerow(["task", "image", "split", "confidence", "answers", "label_hash"])
        for done, (row, record) in enumerate(entries, 1):
            try:
                if isinstance(record, Skip):
                    raise record
                image = writer.add(record)
            except (Skip, ImageUnavailable) as exc:
                tally.skip(exc.reason, row.id)
            else:
                tally.add(record)
                index.writerow(
                    [row.id, image, record.split, record.confidence, record.answers]
                    + [record.label_hash]
                )
            if progress and (done % PROGRESS_EVERY == 0 or done == total):
                progress(done, total)
        if not tally.total_images:
            raise EmptyExport("No accepted task passes the filters (confidence, readable image).")
        writer.finish()


def _read(reader: RecordReader, row: TaskRow) -> Record | Skip:
    try:
        return reader.read(row)
    except Skip as exc:
        return exc


def _read_each(
    rows: Iterator[TaskRow], reader: RecordReader, writer: Writer, staging: Staging
) -> Entries:
    """Each row read as the export reaches it."""
    for row in rows:
        yield row, _read(reader, row)


def _read_ahead(
    rows: Iterator[TaskRow], reader: RecordReader, writer: Writer, staging: Staging
) -> Entries:
    """Rows read a batch ahead of the export: the batch's images go to the staging's copier,
    which copies them into the zip on another core while the next batch is read."""
    held: list[tuple[TaskRow, Record | Skip]] = []
    while batch := list(islice(rows, AHEAD_BATCH)):
        entries = [(row, _read(reader, row)) for row in batch]
        images = [(writer.image_rel(r), r.source) for _, r in entries if isinstance(r, Record)]
        staging.images_send(images)
        yield from held
        held = entries
    yield from held


def _publish(source: Path, out: Path, work: Path) -> None:
    """Move the finished export to ``out``; whatever was there (allowed by --force) goes aside
    first and is removed with the work folder."""
    if os.path.lexists(out):
        os.rename(out, work / "previous")
    os.rename(source, out)
    fd = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself survives a power cut
    finally:
        os.close(fd)
