"""Checking uploaded image bytes with Pillow before anything is stored.

Only JPEG, PNG and WebP decoders are ever asked to read user bytes. The pixel count is judged from
the header, before any decode, so a 45-byte PNG claiming 60,000 × 60,000 costs nothing: our limit
is the one that speaks, not Pillow's decompression-bomb check (which would call such a header
corrupt, or raise a warning for 100 Mpx, before we could say "too large" with the numbers). Accepted
images are fully decoded, turned upright by their EXIF orientation and re-encoded, which drops
metadata and anything appended after the image data (an HTML payload, say).
"""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

from sebenzai.common.errors import DomainError

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Importing the plugins registers them in Image.OPEN; nothing else is ever consulted.
_PLUGINS = (JpegImagePlugin, PngImagePlugin, WebPImagePlugin)
# What a plugin raises on a header it cannot parse (Image.open catches the same set).
_HEADER_ERRORS = (SyntaxError, IndexError, TypeError, ValueError, OSError, struct.error, EOFError)
UNSUPPORTED = "Not a supported image; allowed formats are JPEG, PNG and WebP."


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
        if image.format not in ALLOWED_FORMATS:  # e.g. a JPEG plugin answering "MPO"
            raise ImageRejected(code="unsupported_format", message=UNSUPPORTED)
        if _frames(image) > 1:
            raise ImageRejected(
                code="unsupported_format", message="Animated images are not supported."
            )
        content, size = _decode_and_reencode(data, image.format)
    return CheckedImage(hashlib.sha256(data).hexdigest(), image.format, size[0], size[1], content)


def _open(data: bytes) -> Image.Image:
    """Read the header with the first allowed plugin that recognises the signature.

    This is Image.open's own loop without its decompression-bomb check, which only looks at
    the header's size: that is what our ``max_pixels`` judges next, before any decode.
    """
    prefix = data[:16]
    for name in ALLOWED_FORMATS:
        factory, accept = Image.OPEN[name]
        verdict = accept(prefix) if accept else True
        if not verdict or isinstance(verdict, str):  # a string: "recognised but unsupported"
            continue
        try:
            return factory(io.BytesIO(data))
        except _HEADER_ERRORS as exc:
            raise ImageRejected(code="invalid_image", message="The image data is corrupt.") from exc
    raise ImageRejected(code="unsupported_format", message=UNSUPPORTED)


def _frames(image: Image.Image) -> int:
    try:
        return getattr(image, "n_frames", 1)
    except _HEADER_ERRORS as exc:
        raise ImageRejected(code="invalid_image", message="The image data is corrupt.") from exc


def _decode_and_reencode(data: bytes, image_format: str) -> tuple[bytes, tuple[int, int]]:
    """Caller has checked the pixel count, so the decode below is bounded by our limit."""
    try:
        _open(data).verify()
        image = _open(data)
        image.load()
        upright = ImageOps.exif_transpose(image)
    except (
        *_HEADER_ERRORS,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise ImageRejected(
            code="invalid_image", message="The image data is corrupt or truncated."
        ) from exc
    # Encoders copy comments, EXIF and XMP from ``info`` into the new file (a JPEG comment can
    # carry "<script>…"); none of it is needed to label pixels.
    upright.info = {}
    out = io.BytesIO()
    if image_format == "JPEG":
        upright.save(out, "JPEG", quality=95)
    elif image_format == "WEBP":
        upright.save(out, "WEBP", quality=95)
    else:
        upright.save(out, "PNG")
    return out.getvalue(), upright.size


# Sizes a scaled copy may have (its longest side, px). A request rounds up to the next one, so a
# phone asking for 411 px and another asking for 412 px share one cached file.
SCALED_SIZES = (160, 320, 480, 640, 800, 1024, 1280, 1600, 2048)
SCALED_QUALITY = 80


def scaled_size_for(requested: int) -> int:
    """The smallest allowed size at least ``requested`` (the largest for bigger requests)."""
    return next((size for size in SCALED_SIZES if size >= requested), SCALED_SIZES[-1])


def scaled_name(*, sha256: str, size: int) -> str:
    return f"scaled/{sha256[:2]}/{sha256}-{size}.webp"


def image_scale(content: bytes, *, size: int) -> bytes:
    """A WebP copy whose longest side is ``size``; coordinates on it map back to the original
    by the ratio of the sides, which the browser does by drawing it at the original size."""
    with Image.open(io.BytesIO(content)) as image:
        image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, much faster
        copy = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
        copy.thumbnail((size, size), Image.Resampling.LANCZOS)
    copy.info = {}  # pixels only, as in the stored original
    out = io.BytesIO()
    copy.save(out, "WEBP", quality=SCALED_QUALITY, method=4)
    return out.getvalue()
