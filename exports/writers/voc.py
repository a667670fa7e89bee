"""Pascal VOC: ``Annotations/<id>.xml``, ``JPEGImages/<id>.jpg``, ``ImageSets/Main/<split>.txt``
and ``labels.txt`` (the class names, one a line); the id is the image's sha256.

This is the layout torchvision's ``VOCDetection`` reads (under ``VOCdevkit/VOC2007/``), and it
opens ``JPEGImages/<id>.jpg`` whatever the image is: PNG and WebP images are re-encoded as JPEG
here (``exports.jpeg``) — in this format only — and the XML's ``filename`` names the JPEG. Its
sha256 in the manifest is the JPEG's; the id stays the original's.

Boxes are written as stored — 0-based pixel coordinates, up to two decimals, as CVAT writes them
— with ``xmax = x + w``. A polygon is written as the box of its bounds plus a ``<polygon>`` with
``<x1>``, ``<y1>``, ... (the Roboflow convention), which box-only readers ignore. ``depth`` is 3:
the platform does not record channels, and VOC readers do not use it.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

from ..jpeg import ENCODER, JPEG_QUALITY, jpeg_from
from ..records import Record
from ..shapes import Shape
from ..staged import StagedFile
from .base import Writer, num

# Control characters: XML 1.0 cannot hold most of them, and a name in labels.txt is one line.
CONTROL = re.compile("[\x00-\x1f\x7f\ufffe\uffff]")


def name_clean(value: str) -> str:
    return CONTROL.sub("\ufffd", value)


class VocWriter(Writer):
    image_rule = (
        f"JPEG copied byte for byte; PNG and WebP decoded and re-encoded as RGB JPEG ({ENCODER}, "
        f"quality {JPEG_QUALITY}, alpha dropped); all named <sha256 of the original>.jpg"
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._names = {name: escape(name_clean(name)) for name in self.project.labels}
        self._sets: dict[str, StagedFile] = {}
        for split in self.options.active_splits:
            self._sets[split] = self.staging.open(f"ImageSets/Main/{split}.txt")

    def _object(self, shape: Shape) -> str:
        polygon = ""
        if shape.points is not None:
            coords = "".join(
                f"<x{i}>{num(x)}</x{i}><y{i}>{num(y)}</y{i}>"
                for i, (x, y) in enumerate(shape.points, 1)
            )
            polygon = f"\n\t\t<polygon>{coords}</polygon>"
        return (
            f"\t<object>\n\t\t<name>{self._names[shape.label]}</name>\n\t\t<pose>Unspecified</pose>\n"
            "\t\t<truncated>0</truncated>\n\t\t<difficult>0</difficult>\n"
            f"\t\t<bndbox><xmin>{num(shape.x)}</xmin><ymin>{num(shape.y)}</ymin>"
            f"<xmax>{num(shape.x + shape.w)}</xmax><ymax>{num(shape.y + shape.h)}</ymax></bndbox>"
            f"{polygon}\n\t</object>\n"
        )

    def add(self, record: Record) -> str:
        name = f"{record.sha256}.jpg"
        rel = f"JPEGImages/{name}"
        if record.ext == "jpg":
            self.staging.image(rel, record.source)
        else:
            self.staging.image_converted(rel, record.source, jpeg_from)
        objects = "".join(self._object(shape) for shape in record.shapes)
        self.staging.write(
            f"Annotations/{record.sha256}.xml",
            "<annotation>\n\t<folder>JPEGImages</folder>\n"
            f"\t<filename>{name}</filename>\n"
            "\t<source><database>Sebenzai</database></source>\n"
            f"\t<size><width>{record.width}</width><height>{record.height}</height>"
            "<depth>3</depth></size>\n\t<segmented>0</segmented>\n"
            f"{objects}</annotation>\n",
        )
        self._sets[record.split].write(f"{record.sha256}\n")
        return rel

    def finish(self) -> None:
        for handle in self._sets.values():
            handle.close()
        names = "".join(f"{name_clean(name)}\n" for name in self.project.labels)
        self.staging.write("labels.txt", names)

    def describe(self) -> dict[str, Any]:
        described = super().describe()
        described["images"]["reencoded_as_jpeg"] = self.staging.images_converted
        return described
