"""Turning uploaded files (many images, or one zip archive) into tasks.

Good files become tasks even when others in the same request are refused; every refusal is
reported per file. Images are stored under a name made from their sha256, so the same image
uploaded twice to a project is skipped as a duplicate, and the user's file name is never a path.
"""

from __future__ import annotations

import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from sebenzai.common.errors import Conflict, DomainError

from ..images import CheckedImage, ImageRejected, image_check
from ..models import Project, ProjectStatus, Task


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
    read: object  # () -> bytes, reading at most the size cap + 1


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
        yield IncomingFile(f"images[{index}]", upload.name or "", lambda u=upload: u.read(cap + 1))


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
        )


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    try:
        with zf.open(info) as handle:
            return handle.read(cap + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise ImageRejected(
            code="invalid_archive_entry", message="This entry cannot be read."
        ) from exc


def _store(image: CheckedImage) -> tuple[str, bool]:
    """The image's content-addressed path, and whether this call wrote it."""
    path = f"images/{image.sha256[:2]}/{image.sha256}.{image.extension}"
    if default_storage.exists(path):
        return path, False
    default_storage.save(path, ContentFile(image.content))
    return path, True


def _unstore(rows: list[Task]) -> None:
    """Delete the files this upload wrote for rows it could not insert, unless a task (of any
    project: files are shared by content) has come to use one meanwhile."""
    paths = {row.image for row in rows}
    used = set(Task.objects.filter(image__in=paths).values_list("image", flat=True))
    for path in paths - used:
        default_storage.delete(path)


def tasks_create_from_files(*, project: Project, files: Iterator[IncomingFile]) -> IntakeReport:
    """Check, store and record each file; duplicates (same sha256 in this project) are skipped.
    Files past the project's or the requester's image quota are refused one by one."""
    if project.status == ProjectStatus.DONE:
        raise Conflict(
            code="project_done", field="project", message="A finished project takes no new images."
        )
    limits = settings.SEBENZAI
    report, candidates = IntakeReport(), []
    seen = set(project.tasks.values_list("sha256", flat=True))
    room = _room(project)  # a first look, so a full account decodes nothing
    for incoming in files:
        if len(candidates) >= room.images:
            report.errors.append(_quota_error(incoming, room))
            continue
        try:
            image = image_check(
                incoming.read(),
                max_bytes=limits["IMAGE_MAX_BYTES"],
                max_pixels=limits["IMAGE_MAX_PIXELS"],
            )
        except ImageRejected as exc:
            report.errors.append(_file_error(incoming, exc.code, exc.message))
            continue
        if image.sha256 in seen:
            report.duplicates += 1
            continue
        seen.add(image.sha256)
        path, written = _store(image)
        candidates.append((_task_row(project, image, incoming.name, path), incoming, written))
    report.created = _rows_insert(project, candidates, report)
    return report


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
    _unstore([row for row, _, written in over if written])  # lost a quota race: no orphans
    return [str(row.id) for row, _, _ in keep]


def _file_error(incoming: IncomingFile, code: str, message: str) -> dict:
    name = original_name_clean(incoming.name)
    return {"field": incoming.field, "file": name, "code": code, "message": message}


def _quota_error(incoming: IncomingFile, room: Room) -> dict:
    message = f"{room.reason}; this one was not stored."
    return _file_error(incoming, "quota_exceeded", message)


def _task_row(project: Project, image: CheckedImage, name: str, path: str) -> Task:
    return Task(
        project=project,
        image=path,
        sha256=image.sha256,
        image_format=image.image_format,
        original_name=original_name_clean(name),
        width=image.width,
        height=image.height,
        target_redundancy=project.redundancy_min,
    )
