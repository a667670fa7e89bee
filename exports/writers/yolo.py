"""Ultralytics YOLO: ``images/<split>/``, ``labels/<split>/<stem>.txt`` and ``data.yaml``.

A label line is ``class cx cy w h`` for a box, or ``class x1 y1 x2 y2 ...`` for a polygon, every
coordinate divided by the image side (six decimals, clamped to 0..1). An image with no objects
gets an empty label file: a deliberate background image, not a missing label. Class numbers are
the project's label order.
"""

from __future__ import annotations

import json
from typing import Any

from ..records import Record
from ..shapes import Shape
from .base import Writer

# ``path`` left empty: Ultralytics then takes the folder holding data.yaml as the dataset root,
# so the export works wherever it is unpacked (a relative "." would mean the working directory).
DATA_YAML_HEAD = """\
# Ultralytics YOLO dataset exported by Sebenzai.
# path is empty on purpose: the dataset root is the folder holding this file.
path: ''
"""


def _unit(value: float, side: int) -> float:
    return min(max(value / side, 0.0), 1.0)


class YoloWriter(Writer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._class = {name: index for index, name in enumerate(self.project.labels)}
        for split in self.options.active_splits:
            self.staging.mkdir(f"images/{split}")
            self.staging.mkdir(f"labels/{split}")

    def _line(self, shape: Shape, width: int, height: int) -> str:
        cls = self._class[shape.label]
        if shape.points is not None:
            coords = " ".join(
                f"{_unit(x, width):.6f} {_unit(y, height):.6f}" for x, y in shape.points
            )
            return f"{cls} {coords}\n"
        x1, x2 = shape.x / width, (shape.x + shape.w) / width
        y1, y2 = shape.y / height, (shape.y + shape.h) / height
        # _unit written out (the same comparisons as its min and max): four times per box.
        x1 = 0.0 if x1 < 0.0 else 1.0 if x1 > 1.0 else x1
        x2 = 0.0 if x2 < 0.0 else 1.0 if x2 > 1.0 else x2
        y1 = 0.0 if y1 < 0.0 else 1.0 if y1 > 1.0 else y1
        y2 = 0.0 if y2 < 0.0 else 1.0 if y2 > 1.0 else y2
        return f"{cls} {(x1 + x2) / 2:.6f} {(y1 + y2) / 2:.6f} {x2 - x1:.6f} {y2 - y1:.6f}\n"

    def add(self, record: Record) -> str:
        rel = f"images/{record.split}/{record.file_name}"
        self.staging.image(rel, record.source)
        lines = "".join(self._line(s, record.width, record.height) for s in record.shapes)
        self.staging.write(f"labels/{record.split}/{record.sha256}.txt", lines)
        return rel

    def finish(self) -> None:
        splits = "".join(f"{split}: images/{split}\n" for split in self.options.active_splits)
        # JSON strings are valid YAML double-quoted scalars: any label name is safe here.
        names = "".join(f"  {i}: {json.dumps(name)}\n" for name, i in self._class.items())
        self.staging.write(
            "data.yaml", f"{DATA_YAML_HEAD}{splits}nc: {len(self._class)}\nnames:\n{names}"
        )
