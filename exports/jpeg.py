"""PNG and WebP images as JPEG, for the one format whose readers accept nothing else: torchvision's
``VOCDetection`` opens ``JPEGImages/<id>.jpg`` and no other name.

Pillow decodes and encodes (quality 95, its default 4:2:0 subsampling); the same Pillow gives the
same bytes, so exports stay reproducible. Pixels become RGB with any alpha channel dropped, which
is what PIL-based readers of the other formats do when they ``convert("RGB")`` the original.
Only the decoders of the formats the platform stores are consulted, and stored images passed the
upload's pixel limit, so the decode is bounded.
"""

from __future__ import annotations

import io

from PIL import Image
from PIL import __version__ as PILLOW_VERSION

from .staging import ImageUnavailable

JPEG_QUALITY = 95
CONVERTED_FORMATS = ("PNG", "WEBP")
ENCODER = f"Pillow {PILLOW_VERSION}"  # in the VOC manifest: its JPEG bytes depend on it
# What a damaged or unexpected file raises while Pillow reads or converts it.
# (UnidentifiedImageError, for bytes no allowed decoder recognises, is an OSError.)
_READ_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


def jpeg_from(data: bytes) -> bytes:
    """``data`` (a PNG or WebP) re-encoded as an RGB JPEG; ImageUnavailable when it cannot be
    read, so the task is skipped and counted rather than exported with a missing image."""
    try:
        with Image.open(io.BytesIO(data), formats=CONVERTED_FORMATS) as image:
            rgb = image.convert("RGB")
    except _READ_ERRORS as exc:
        raise ImageUnavailable("unreadable_image") from exc
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
