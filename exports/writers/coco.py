"""COCO detection or segmentation: ``annotations/instances_<split>.json`` and ``images/<split>/``.

Each split's JSON is written as tasks come — its images straight into it, its annotations into a
spool file appended at the end — so the project is read once and memory stays flat however many
boxes it has.
Category ids are 1..N in the project's label order; image and annotation ids count from 1 in each
file. A box has ``"segmentation": []``; a polygon has its ring, the box of its bounds, and its area.

Beyond COCO's own fields, as in CSV and JSON lines: each image has its task's consensus
``confidence`` (null when none) and ``accepted_by`` ("consensus", "review", "model"; null when not
recorded); an object has the fused ``score`` consensus gave it, and no ``score`` key otherwise, so
a ground-truth object is never mistaken for a scored detection. pycocotools ignores extra keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from ..records import Record
from ..shapes import Shape
from .base import Writer

SEPARATOR = ("", ",\n")  # indexed by "is this not the first entry"
SPOOL_BUFFER = 1 << 18
ACCEPTED_BY = {None: "null", "consensus": '"consensus"', "review": '"review"', "model": '"model"'}


def _confidence(value: float | None) -> str:
    """``json.dumps(value)``, the common case written out (once per image)."""
    if type(value) is float and value - value == 0:  # finite: its repr is JSON's
        return float.__repr__(value)
    return json.dumps(value)


class _Part:
    """One split's JSON file, open from the start: its head and images are written as tasks
    come, while its annotations wait in a spool file (they follow the images in the JSON)."""

    def __init__(self, writer: CocoWriter, split: str, head: str) -> None:
        self.out = writer.staging.open(f"annotations/instances_{split}.json")
        self.out.write(head + ',\n"images":[\n')
        self.spool_path = str(writer.scratch / f"coco-{split}-annotations")
        self.annotations: IO[str] = open(  # noqa: SIM115 - closed in finish()
            self.spool_path, "w", encoding="utf-8", buffering=SPOOL_BUFFER
        )
        self.image_id = 0
        self.annotation_id = 0


class CocoWriter(Writer):
    images_only = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._category = {name: index for index, name in enumerate(self.project.labels, 1)}
        self._prefix = {
            name: f',"category_id":{index},"bbox":[' for name, index in self._category.items()
        }
        self.staging.mkdir("annotations")
        head = self._head()
        self._parts = {split: _Part(self, split, head) for split in self.options.active_splits}

    def image_rel(self, record: Record) -> str:
        return f"images/{record.split}/{record.file_name}"

    def add(self, record: Record) -> str:
        rel = self.image_rel(record)
        self.staging.image(rel, record.source)
        part = self._parts[record.split]
        image_id = part.image_id = part.image_id + 1
        part.out.write(
            f'{SEPARATOR[image_id > 1]}{{"id":{image_id},'
            f'"file_name":"{record.file_name}","width":{record.width},'
            f'"height":{record.height},"task_id":"{record.task_id}",'
            f'"confidence":{_confidence(record.confidence)},'
            f'"accepted_by":{ACCEPTED_BY[record.accepted_by]}}}'
        )
        if record.shapes:
            first = part.annotation_id + 1
            part.annotation_id += len(record.shapes)
            text = ",\n".join(self._annotations(record.shapes, image_id, first))
            part.annotations.write(SEPARATOR[first > 1] + text)
        return rel

    def _annotations(self, shapes: list[Shape], image_id: int, first: int) -> Iterator[str]:
        # Once per box (500,000 in a large export): the fields unpacked, the category's part of
        # the text made once per label.
        prefix = self._prefix
        for annotation_id, (label, x, y, w, h, points, area, score) in enumerate(shapes, first):
            if points is None:
                segmentation = "[]"
            else:
                segmentation = "[[" + ",".join(f"{px!r},{py!r}" for px, py in points) + "]]"
            # Numbers as repr(): Python's shortest round-trip form, the same on every run. A
            # score is a finite int or float (shapes.py), whose repr is JSON's.
            scored = "" if score is None else f',"score":{score!r}'
            yield (
                f'{{"id":{annotation_id},"image_id":{image_id}{prefix[label]}'
                f'{x!r},{y!r},{w!r},{h!r}],"area":{area!r},"iscrowd":0,'
                f'"segmentation":{segmentation}{scored}}}'
            )

    def _head(self) -> str:
        head = {
            "info": {"description": self.project.name, "contributor": "Sebenzai"},
            "licenses": [],
            "categories": [
                {"id": index, "name": name, "supercategory": ""}
                for name, index in self._category.items()
            ],
        }
        return json.dumps(head, separators=(",", ":"))[:-1]  # leave the object open

    def finish(self) -> None:
        # Every split's annotations are handed to its lane first, then the files are closed in
        # order: the splits are hashed and deflated side by side.
        for part in self._parts.values():
            part.annotations.close()
            part.out.write('\n],\n"annotations":[\n')
            part.out.append_file(part.spool_path)
            part.out.write("\n]}\n")
        for part in self._parts.values():
            part.out.close()
