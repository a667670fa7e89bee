"""COCO detection or segmentation: ``annotations/instances_<split>.json`` and ``images/<split>/``.

Each split's JSON is put together at the end from two spool files, its images and its
annotations, so the project is read once and memory stays flat however many boxes it has.
Category ids are 1..N in the project's label order; image and annotation ids count from 1 in each
file. A box has ``"segmentation": []``; a polygon has its ring, the box of its bounds, and its area.
"""

from __future__ import annotations

import json
from typing import IO

from ..records import Record
from .base import Writer

SEPARATOR = ("", ",\n")  # indexed by "is this not the first entry"


class _Part:
    """One split's spool files and id counters."""

    def __init__(self, writer: CocoWriter, split: str) -> None:
        path = writer.scratch / f"coco-{split}"
        self.images: IO[str] = open(f"{path}-images", "w+", encoding="utf-8")  # noqa: SIM115
        self.annotations: IO[str] = open(f"{path}-annotations", "w+", encoding="utf-8")  # noqa: SIM115
        self.image_id = 0
        self.annotation_id = 0


class CocoWriter(Writer):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._category = {name: index for index, name in enumerate(self.project.labels, 1)}
        self._parts = {split: _Part(self, split) for split in self.options.active_splits}

    def add(self, record: Record) -> str:
        rel = f"images/{record.split}/{record.file_name}"
        self.staging.image(rel, record.source)
        part = self._parts[record.split]
        part.image_id += 1
        part.images.write(
            f'{SEPARATOR[part.image_id > 1]}{{"id":{part.image_id},'
            f'"file_name":"{record.file_name}","width":{record.width},'
            f'"height":{record.height},"task_id":"{record.task_id}"}}'
        )
        for shape in record.shapes:
            part.annotation_id += 1
            if shape.points is None:
                segmentation = "[]"
            else:
                segmentation = "[[" + ",".join(f"{x!r},{y!r}" for x, y in shape.points) + "]]"
            # Numbers as repr(): Python's shortest round-trip form, the same on every run.
            part.annotations.write(
                f'{SEPARATOR[part.annotation_id > 1]}{{"id":{part.annotation_id},'
                f'"image_id":{part.image_id},"category_id":{self._category[shape.label]},'
                f'"bbox":[{shape.x!r},{shape.y!r},{shape.w!r},{shape.h!r}],'
                f'"area":{shape.area!r},"iscrowd":0,"segmentation":{segmentation}}}'
            )
        return rel

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
        self.staging.mkdir("annotations")
        head = self._head()
        for split, part in self._parts.items():
            with self.staging.open(f"annotations/instances_{split}.json") as out:
                out.write(head + ',\n"images":[\n')
                _copy(part.images, out)
                out.write('\n],\n"annotations":[\n')
                _copy(part.annotations, out)
                out.write("\n]}\n")
            part.images.close()
            part.annotations.close()


def _copy(spool: IO[str], out) -> None:
    spool.flush()
    spool.seek(0)
    while chunk := spool.read(1 << 20):
        out.write(chunk)
