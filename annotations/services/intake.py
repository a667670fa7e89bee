"""Turning uploaded files (many images, or one zip archive) into tasks.

Good files become tasks even when others in the same request are refused; every refusal is
reported per file. Images are stored under a name made from their sha256, so the same image
uploaded twice to a project is skipped as a duplicate, and the user's file name is never a path.
A video (known by its first bytes, or by its name) becomes one task per sampled frame
(``video_frames_take``): all its frames or, refused, none of them and none of their files.
Every task of a request carries the request's group metadata (camera, site, sequence, time).
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from sebenzai.common.errors import Conflict, DomainError

from ..images import CheckedImage, ImageRejected, image_check
from ..models import Project, ProjectStatus, Task
from ..video import Sampling, VideoRejected, video_looks
from .media import image_store, images_unstore
from .video_intake import video_frames_take


@dataclass
class IntakeReport:
    created: list[str] = field(default_factory=list)
    duplicates: int = 0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "created": len(self.created),
            "duplicates": self.duplicates,
            "errors": self.errors,
            "tasks": self.created,
        }


@dataclass(frozen=True)
class IncomingFile:
    field: str  # e.g. "images[3]" or "archive:photos/cam1.jpg", for error messages
    name: str
    read: Callable[[], bytes]  # reading at most the image size cap + 1
    # The whole file as a seekable stream, for a video; None: a stream over ``read()``.
    open: Callable[[], IO[bytes]] | None = None


def original_name_clean(name: str) -> str:
    """The user's file name, kept only as metadata: the last path part, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return _printable(base)[:255]


def _printable(text: str) -> str:
    """Without control and format characters (NUL, terminal escapes, right-to-left overrides)."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")


def files_from_uploads(uploads: list) -> Iterator[IncomingFile]:
    cap = settings.SEBENZAI["IMAGE_MAX_BYTES"]
    for index, upload in enumerate(uploads):
        yield IncomingFile(
            f"images[{index}]",
            upload.name or "",
            lambda u=upload: u.read(cap + 1),
            lambda u=upload: _rewound(u),
        )


def _rewound(upload: IO[bytes]) -> IO[bytes]:
    upload.seek(0)
    return upload


def _unsafe_entry(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or "\x00" in name or ".." in parts or ":" in parts[0]


def files_from_archive(archive: IO[bytes]) -> Iterator[IncomingFile]:
    """Yield the image entries of a zip after checking the whole directory first: unsafe names,
    entry count, declared size and compression ratio. Entries are read in memory, never
    extracted, and each read stops at the size cap whatever the header declared."""
    limits = settings.SEBENZAI
    try:
        zf = zipfile.ZipFile(archive)
        infos = [
            i for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")
        ]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DomainError(
            code="invalid_archive", field="archive", message="Not a readable zip archive."
        ) from exc
    for info in infos:
        if _unsafe_entry(info.filename):
            message = f"Unsafe entry name {info.filename[:200]!r}: absolute paths and '..' are not allowed."
            raise DomainError(code="unsafe_archive_entry", field="archive", message=message)
    if len(infos) > limits["ARCHIVE_MAX_ENTRIES"]:
        message = f"The archive has {len(infos):,} entries; the limit is {limits['ARCHIVE_MAX_ENTRIES']:,}."
        raise DomainError(code="archive_too_large", field="archive", message=message)
    if sum(i.file_size for i in infos) > limits["ARCHIVE_MAX_BYTES"]:
        raise DomainError(
            code="archive_too_large",
            field="archive",
            message="The archive unpacks to too many bytes.",
        )
    if any(i.file_size > limits["ARCHIVE_MAX_RATIO"] * max(i.compress_size, 1) for i in infos):
        raise DomainError(
            code="archive_too_large",
            field="archive",
            message="An entry is compressed suspiciously well.",
        )
    cap = limits["IMAGE_MAX_BYTES"]
    for info in infos:
        yield IncomingFile(
            f"archive:{_printable(info.filename)[:200]}",
            info.filename,
            lambda i=info: _read_entry(zf, i, cap),
            lambda i=info: _open_entry(zf, i),
        )


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    try:
        with zf.open(info) as handle:
            return handle.read(cap + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise ImageRejected(
            code="invalid_archive_entry", message="This entry cannot be read."
        ) from exc


def _open_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    try:
        return zf.open(info)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise ImageRejected(
            code="invalid_archive_entry", message="This entry cannot be read."
        ) from exc


def _sniffed(incoming: IncomingFile) -> bytes | IO[bytes]:
    """A video as an open stream (judged by its first bytes or its name), anything else as its
    bytes, at most the image size cap + 1."""
    if incoming.open is None:
        data = incoming.read()
        return io.BytesIO(data) if video_looks(incoming.name, data[:16]) else data
    stream = incoming.open()
    try:
        head = stream.read(16)
        stream.seek(0)
        if video_looks(incoming.name, head):
            return stream
        with stream:
            return stream.read(settings.SEBENZAI["IMAGE_MAX_BYTES"] + 1)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        stream.close()
        message = "This entry cannot be read."
        raise ImageRejected(code="invalid_archive_entry", message=message) from exc


def tasks_create_from_files(
    *,
    project: Project,
    files: Iterator[IncomingFile],
    sampling: Sampling | None = None,
    group: dict | None = None,
) -> IntakeReport:
    """Check, store and record each file; duplicates (same sha256 in this project) are skipped.
    Files past the project's or the requester's image quota are refused one by one; a video's
    frames are sampled by ``sampling`` (one a second by default) and refused all together.
    ``group`` (camera, site, sequence, captured_at: validated by the caller) goes into every
    task's ``metadata["group"]``."""
    if project.status == ProjectStatus.DONE:
        raise Conflict(
            code="project_done", field="project", message="A finished project takes no new images."
        )
    intake = _Intake(project, sampling or Sampling(), {"group": group} if group else {})
    for incoming in files:
        if len(intake.candidates) >= intake.room.images:
            intake.report.errors.append(_quota_error(incoming, intake.room))
            continue
        try:
            content = _sniffed(incoming)
            if isinstance(content, bytes):
                intake.image_add(incoming, content)
            else:
                intake.video_add(incoming, content)
        except (ImageRejected, VideoRejected) as exc:
            intake.report.errors.append(_file_error(incoming, exc.code, exc.message))
    intake.report.created = _rows_insert(project, intake.candidates, intake.report)
    return intake.report


class _Intake:
    """One request's running state: what is already in the project, what this request has
    stored so far, and the room the quotas leave."""

    def __init__(self, project: Project, sampling: Sampling, metadata: dict) -> None:
        self.project, self.sampling, self.metadata = project, sampling, metadata
        self.report, self.candidates = IntakeReport(), []
        self.seen = set(project.tasks.values_list("sha256", flat=True))
        self.room = _room(project)  # a first look, so a full account decodes nothing

    def image_add(self, incoming: IncomingFile, data: bytes) -> None:
        limits = settings.SEBENZAI
        image = image_check(
            data, max_bytes=limits["IMAGE_MAX_BYTES"], max_pixels=limits["IMAGE_MAX_PIXELS"]
        )
        if image.sha256 in self.seen:
            self.report.duplicates += 1
            return
        self.seen.add(image.sha256)
        path, written = image_store(image)
        row = _task_row(self.project, image, incoming.name, path, self.metadata)
        self.candidates.append((row, incoming, written))

    def video_add(self, incoming: IncomingFile, stream: IO[bytes]) -> None:
        left = self.room.images - len(self.candidates)
        take = video_frames_take(
            project=self.project,
            name=original_name_clean(incoming.name),
            stream=stream,
            sampling=self.sampling,
            seen=self.seen,
            room=(left, self.room.reason),
            metadata=self.metadata,
        )
        self.report.duplicates += take.duplicates
        self.seen.update(row.sha256 for row, _ in take.rows)
        self.candidates.extend((row, incoming, written) for row, written in take.rows)


@dataclass(frozen=True)
class Room:
    images: int  # how many more images may be stored
    reason: str  # which quota is the tighter one


def _room(project: Project) -> Room:
    limits = settings.SEBENZAI
    in_project = Task.objects.filter(project=project).count()
    in_account = Task.objects.filter(project__owner_id=project.owner_id).count()
    project_room = limits["PROJECT_MAX_TASKS"] - in_project
    account_room = limits["REQUESTER_MAX_TASKS"] - in_account
    if account_room < project_room:
        quota = limits["REQUESTER_MAX_TASKS"]
        return Room(max(0, account_room), f"Your account holds its limit of {quota:,} images")
    quota = limits["PROJECT_MAX_TASKS"]
    return Room(max(0, project_room), f"The project holds its limit of {quota:,} images")


def _rows_insert(project: Project, candidates: list, report: IntakeReport) -> list[str]:
    """Insert what still fits. The room is counted again under a lock on the requester's row,
    so two uploads racing (to one project or to two of the same account) cannot both fill it."""
    with transaction.atomic():
        owner = get_user_model().objects.select_for_update().filter(pk=project.owner_id)
        list(owner.values_list("pk", flat=True))  # taken and held until commit
        room = _room(project)
        keep, over = candidates[: room.images], candidates[room.images :]
        Task.objects.bulk_create([row for row, _, _ in keep], batch_size=500)
    report.errors.extend(_quota_error(incoming, room) for _, incoming, _ in over)
    images_unstore([row.image for row, _, written in over if written])  # lost a race: no orphans
    return [str(row.id) for row, _, _ in keep]


def _file_error(incoming: IncomingFile, code: str, message: str) -> dict:
    name = original_name_clean(incoming.name)
    return {"field": incoming.field, "file": name, "code": code, "message": message}


def _quota_error(incoming: IncomingFile, room: Room) -> dict:
    message = f"{room.reason}; this one was not stored."
    return _file_error(incoming, "quota_exceeded", message)


def _task_row(project: Project, image: CheckedImage, name: str, path: str, metadata: dict) -> Task:
    return Task(
        project=project,
        image=path,
        sha256=image.sha256,
        image_format=image.image_format,
        original_name=original_name_clean(name),
        width=image.width,
        height=image.height,
        target_redundancy=project.redundancy_min,
        metadata=metadata,
    )
