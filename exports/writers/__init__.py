"""One writer per export format."""

from .base import Writer
from .coco import CocoWriter
from .imagefolder import ImageFolderWriter
from .tabular import CsvWriter, JsonlWriter
from .voc import VocWriter
from .yolo import YoloWriter

WRITERS: dict[str, type[Writer]] = {
    "coco": CocoWriter,
    "yolo": YoloWriter,
    "voc": VocWriter,
    "csv": CsvWriter,
    "jsonl": JsonlWriter,
    "imagefolder": ImageFolderWriter,
}

__all__ = ["WRITERS", "Writer"]
