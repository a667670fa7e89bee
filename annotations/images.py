"""Checking uploaded image bytes with Pillow before anything is stored.

Only JPEG, PNG and WebP decoders are ever asked to read user bytes. The pixel count is judged from
the header, before any decode, so a 45-byte PNG claiming 60,000 × 60,000 costs nothing. Accepted
images are fully decoded, turned upright by their EXIF orientation and re-encoded, which drops
metadata and anything appended after the image data (an HTML payload, say).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from sebenzai.common.errors import DomainError

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF")


class ImageRejected(DomainError):
    """One file refused; intake reports it per file rather than failing the whole request."""


@dataclass(frozen=True)
class CheckedImage:
    sha256: str
    image_format: str
    width: int
    height: int
    content: bytes

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.image_format]


def image_check(data: bytes, *, max_bytes: int, max_pixels: int) -> CheckedImage:
    """Return the image ready to store, or raise ImageRejected with a code and a plain message."""
    if not data:
        raise ImageRejected(code="invalid_image", message="The file is empty.")
    if len(data) > max_bytes:
        message = f"The file is {len(data):,} bytes; the limit is {max_bytes:,} bytes."
        raise ImageRejected(code="file_too_large", message=message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open(data)
        width, height = image.size
        if width * height > max_pixels:
            message = f"The image is {width * height:,} px ({width}×{height}); the limit is {max_pixels:,} px."
            raise ImageRejected(code="image_too_large", message=message)
        if getattr(image, "n_frames", 1) > 1:
            raise ImageRejected(
                code="unsupported_format", message="Animated images are not supported."
            )
        content, size = _decode_and_reencode(data, image.format)
    return CheckedImage(hashlib.sha256(data).hexdigest(), image.format, size[0], size[1], content)


def _open(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except UnidentifiedImageError as exc:
        if data.startswith(SIGNATURES):
            raise ImageRejected(code="invalid_image", message="The image data is corrupt.") from exc
        message = "Not a supported image; allowed formats are JPEG, PNG and WebP."
        raise ImageRejected(code="unsupported_format", message=message) from exc
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageRejected(code="invalid_image", message="The image data is corrupt.") from exc


def _decode_and_reencode(data: bytes, image_format: str) -> tuple[bytes, tuple[int, int]]:
    try:
        Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS).verify()
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
        image.load()
        upright = ImageOps.exif_transpose(image)
    except (
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise ImageRejected(
            code="invalid_image", message="The image data is corrupt or truncated."
        ) from exc
    out = io.BytesIO()
    if image_format == "JPEG":
        upright.save(out, "JPEG", quality=95)
    elif image_format == "WEBP":
        upright.save(out, "WEBP", quality=95)
    else:
        upright.save(out, "PNG")
    return out.getvalue(), upright.size
