"""From a task row to what a writer needs — its split, its image file, its shapes or class — and
the tally of what went in and what was left out, which becomes the manifest's counts."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from annotations.images import EXTENSIONS
from consensus.models import REVIEWED_METHOD_PREFIX

from .health import GroupTally
from .media import MediaIndex
from .options import ExportOptions
from .selectors import TaskRow
from .shapes import Shape, shapes_read
from .split import SplitRule, group_key

MODERATION_VERDICTS = ("safe", "unsafe")
SKIPPED_TASKS_LISTED = 1000  # the manifest names at most this many; it always counts them all
# The canonical JSON a label is hashed in. Made once: json.dumps with arguments builds an encoder
# on every call, which cost more than the encoding. No circular check: a decoded label has no
# cycles, and the text is the same without it.
CANONICAL_JSON = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False
)
# The C encoder that CANONICAL_JSON.encode builds on every call, built once (the same arguments
# and so the same text); None where the json module has no C speedups.
_CANONICAL_C = c_make_encoder and c_make_encoder(
    None, CANONICAL_JSON.default, encode_basestring, None, ":", ",", True, False, True
)


def canonical_json(value: Any) -> str:
    """``CANONICAL_JSON.encode(value)`` for a decoded label (a dict or list)."""
    if _CANONICAL_C is None:
        return CANONICAL_JSON.encode(value)
    return "".join(_CANONICAL_C(value, 0))


@dataclass(frozen=True)
class ProjectInfo:
    id: str
    name: str
    kind: str
    labels: tuple[str, ...]


@dataclass(slots=True)
class Record:
    task_id: str
    sha256: str
    ext: str
    width: int
    height: int
    split: str
    source: str  # the checked path of the image file
    confidence: float | None
    answers: int
    shapes: list[Shape] = field(default_factory=list)  # bbox and polygon
    tag: str = ""  # classification label, or moderation verdict
    categories: list[str] = field(default_factory=list)  # moderation
    by_model: bool = False  # accepted on a model's word (auto-accept)
    accepted_by: str | None = None  # "consensus", "review" or "model"; None: not recorded
    group: str | None = None  # the group key it was split by (see split.group_key)
    video: str | None = None  # sha256 of the video it is a frame of
    label_hash: str = ""  # of the accepted label: tells a relabelled task in the next version

    @property
    def file_name(self) -> str:
        return f"{self.sha256}.{self.ext}"


def class_names(project: ProjectInfo) -> tuple[str, ...]:
    """The classes an export is labelled with, in the project's order: its labels, or for a
    moderation project its verdicts (its labels are then categories, not classes)."""
    return MODERATION_VERDICTS if project.kind == "moderation" else project.labels


def accepted_by(*, by_model: bool, method: str | None) -> str | None:
    """How a task's label was accepted: a model's word, an admin's review, or the crowd's
    consensus; None when the task has no consensus row (made outside the platform's flow)."""
    if by_model:  # the flag the manifest's accepted_by_model count reads, so the two agree
        return "model"
    if method is None:
        return None
    return "review" if method.startswith(REVIEWED_METHOD_PREFIX) else "consensus"


class Skip(Exception):
    """A row that stays out of the export, and why (counted in the manifest)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Tally:
    """Counts per split and label; bounded by the number of labels, not of tasks."""

    def __init__(self, *, project: ProjectInfo, splits: tuple[str, ...]) -> None:
        self._splits = splits
        keys = class_names(project)
        self.images = dict.fromkeys(splits, 0)
        self.objects = dict.fromkeys(splits, 0)
        self.labels = {key: dict.fromkeys(splits, 0) for key in keys}
        self.categories = (
            {key: dict.fromkeys(splits, 0) for key in project.labels}
            if project.kind == "moderation"
            else None
        )
        self.skipped: Counter[str] = Counter()
        self.skipped_tasks: list[dict[str, str]] = []
        self.by_model = 0
        self.by_model_tasks: list[str] = []
        self.groups = GroupTally(splits)

    @property
    def total_images(self) -> int:
        return sum(self.images.values())

    def add(self, record: Record) -> None:
        if record.by_model:
            self.by_model += 1
            if len(self.by_model_tasks) < SKIPPED_TASKS_LISTED:
                self.by_model_tasks.append(record.task_id)
        self.images[record.split] += 1
        self.groups.add(group=record.group, video=record.video, split=record.split)
        self.objects[record.split] += len(record.shapes)
        for shape in record.shapes:
            self.labels[shape.label][record.split] += 1
        if record.tag:
            self.labels[record.tag][record.split] += 1
        for category in record.categories:
            self.categories[category][record.split] += 1  # type: ignore[index]

    def skip(self, reason: str, task_id: str) -> None:
        self.skipped[reason] += 1
        if len(self.skipped_tasks) < SKIPPED_TASKS_LISTED:
            self.skipped_tasks.append({"task": task_id, "reason": reason})

    def drop_objects(self, reason: str, count: int) -> None:
        if count:
            self.skipped[f"objects_{reason}"] += count

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, Any] = {
            "tasks": self.total_images,
            "images": {**self.images, "total": self.total_images},
            "objects": {**self.objects, "total": sum(self.objects.values())},
            "labels": self.labels,
        }
        if self.categories is not None:
            counts["categories"] = self.categories
        counts["skipped"] = dict(sorted(self.skipped.items()))
        if self.by_model:  # only then: an export without it keeps the bytes it always had
            counts["accepted_by_model"] = {"tasks": self.by_model, "listed": self.by_model_tasks}
        return counts


class RecordReader:
    """Turns rows into records, or raises Skip with the reason a row stays out."""

    def __init__(
        self, *, project: ProjectInfo, options: ExportOptions, media: MediaIndex, tally: Tally
    ) -> None:
        self._project = project
        self._labels = frozenset(project.labels)
        self._min_confidence = options.min_confidence
        self._split = SplitRule(("train", "val", "test"), options.split)
        self._group_by = options.group_by
        self._media = media
        self._tally = tally

    def read(self, row: TaskRow) -> Record:
        """The row as a record, or Skip with the reason it stays out."""
        if self._min_confidence is not None and (
            row.confidence is None or row.confidence < self._min_confidence
        ):
            raise Skip("below_min_confidence")
        source = self._media.source(
            image=row.image, sha256=row.sha256, image_format=row.image_format
        )
        if source is None:
            raise Skip("unsafe_image_reference")
        record = Record(
            task_id=row.id,
            sha256=row.sha256,
            ext=EXTENSIONS[row.image_format],
            width=row.width,
            height=row.height,
            split="",
            source=source,
            confidence=row.confidence,
            answers=row.answers,
            by_model=bool(row.by_model),
            accepted_by=accepted_by(by_model=bool(row.by_model), method=row.method),
            video=row.video,
        )
        self._place(record, row)
        try:
            label = json.loads(row.label) if isinstance(row.label, str | bytes) else row.label
        except ValueError as exc:
            raise Skip("unreadable_label") from exc
        canonical = canonical_json(label)
        record.label_hash = hashlib.sha256(canonical.encode()).hexdigest()[:16]
        self._label(record, label)
        return record

    def _place(self, record: Record, row: TaskRow) -> None:
        """The split, by the group key when the task has one, else by the image. With group_by
        ``none`` the group is still recorded (as ``auto`` would take it), so the health report
        shows the groups that the per-image split scattered across splits."""
        if row.sequence is None and row.camera is None and row.video is None:
            record.split = self._split.of(row.sha256)  # no group: most images, so said early
            return
        found = {"sequence": row.sequence, "camera": row.camera, "video": row.video}
        key = group_key(group_by=self._group_by, **found)
        record.split = self._split.of_group(key) if key else self._split.of(row.sha256)
        record.group = key if self._group_by != "none" else group_key(group_by="auto", **found)

    def _label(self, record: Record, label: Any) -> None:
        kind = self._project.kind
        if kind in ("bbox", "polygon"):
            shapes, unreadable = shapes_read(kind, label)
            known = [s for s in shapes if s.label in self._labels]
            self._tally.drop_objects("unreadable", unreadable)
            self._tally.drop_objects("unknown_label", len(shapes) - len(known))
            record.shapes = known
        elif kind == "classification":
            tag = label.get("label") if isinstance(label, dict) else None
            if tag not in self._labels:
                raise Skip("unknown_label")
            record.tag = tag
        else:
            self._moderation(record, label)

    def _moderation(self, record: Record, label: Any) -> None:
        verdict = label.get("verdict") if isinstance(label, dict) else None
        if verdict not in MODERATION_VERDICTS:
            raise Skip("unreadable_label")
        raw = label.get("categories") or []
        categories = sorted({c for c in raw if isinstance(c, str)}) if isinstance(raw, list) else []
        record.tag = verdict
        record.categories = [c for c in categories if c in self._labels]
        self._tally.drop_objects("unknown_label", len(categories) - len(record.categories))
