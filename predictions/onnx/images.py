"""Pixels in: the image as the model was trained to see it, as a [1, 3, H, W] float batch.

A classifier sees the whole image stretched to its input size. A YOLO detector sees it
letterboxed as Ultralytics does (scaled to fit, aspect kept, centred on 114 grey), and the
Letterbox says how to carry its boxes back to the image's own pixels. One difference from
Ultralytics remains: Pillow's bilinear filter smooths when it shrinks where OpenCV's samples,
which moves a box by a fraction of a pixel, not a detection.

Pixels are scaled to 0..1 and, only when the spec asks, normalised by mean and std; edge exports
usually fold any normalisation into the graph. The caller passes the image upright (intake
applies the EXIF orientation before storing it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .spec import ModelSpec

PAD_GREY = (114, 114, 114)


@dataclass(frozen=True)
class Letterbox:
    scale: float  # input pixels per image pixel
    pad_left: int
    pad_top: int
    resized: tuple[int, int]  # (width, height) of the image inside the padding

    def undo(self, xyxy: np.ndarray) -> np.ndarray:
        """Boxes (x1, y1, x2, y2) in input pixels -> the same boxes in image pixels."""
        offset = np.array([self.pad_left, self.pad_top, self.pad_left, self.pad_top])
        return (xyxy - offset) / self.scale


def letterbox_fit(image_size: tuple[int, int], input_size: tuple[int, int]) -> Letterbox:
    """Ultralytics' LetterBox (auto=False, scaleup=True, centred), rounding included."""
    (width, height), (input_width, input_height) = image_size, input_size
    scale = min(input_width / width, input_height / height)
    resized = (max(1, round(width * scale)), max(1, round(height * scale)))
    # The -0.1 is Ultralytics': an odd padding puts its extra pixel on the right and bottom.
    pad_left = round((input_width - resized[0]) / 2 - 0.1)
    pad_top = round((input_height - resized[1]) / 2 - 0.1)
    return Letterbox(scale, pad_left, pad_top, resized)


def letterbox_batch(image: Image.Image, box: Letterbox, spec: ModelSpec) -> np.ndarray:
    resized = _rgb(image).resize(box.resized, Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", spec.input_size, PAD_GREY)
    canvas.paste(resized, (box.pad_left, box.pad_top))
    return _batch(canvas, spec)


def stretched_batch(image: Image.Image, spec: ModelSpec) -> np.ndarray:
    return _batch(_rgb(image).resize(spec.input_size, Image.Resampling.BILINEAR), spec)


def _rgb(image: Image.Image) -> Image.Image:
    # Transparency is dropped, not composited: a camera frame has none to speak of.
    return image if image.mode == "RGB" else image.convert("RGB")


def _batch(image: Image.Image, spec: ModelSpec) -> np.ndarray:
    scaled = np.asarray(image, dtype=np.float32) / np.float32(255)
    normalised = (scaled - np.array(spec.mean, np.float32)) / np.array(spec.std, np.float32)
    return np.ascontiguousarray(normalised.transpose(2, 0, 1)[np.newaxis])
