"""Sampling frames from an uploaded video with PyAV (FFmpeg ships in its wheel: no binary to find
or shell out to). Pure: streams and numbers in, JPEG frames out, no Django import.

Only two demuxers ever read user bytes, chosen by the file's signature: ``mov`` (MP4, MOV) and
``matroska`` (MKV, WebM); only the decoders in VIDEO_CODECS are opened. Every refusal that a header
can justify is made from the header, before a frame is decoded: the pixel count (the image limit),
the frame rate, the duration and so the most frames sampling can make. The decoder is also given
the pixel limit (FFmpeg's ``max_pixels``), and decoding counts frames and seconds, so a header that
lies is caught too. A caller holds the container in ``video_open``'s ``with``: it is closed however
sampling ends.

Sampling. ``rate`` takes the first frame at or after each 1/fps tick. ``scene`` looks at every
frame and takes one that differs from the last taken by more than SCENE_THRESHOLD (mean absolute
difference of small grey thumbnails), at most ``fps`` per second. Either way a frame is dropped
as a near-duplicate when its dHash is within ``dedupe_distance`` bits of any frame already taken
from the video and its brightness is close to that frame's: dHash sees structure, not colour, so
the brightness check keeps a day and a night shot of one road apart.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Literal

import av
import numpy as np
from av.container import InputContainer
from av.video.stream import VideoStream
from PIL import Image

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm")
VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mjpeg"})
SCENE_THRESHOLD = 0.1  # of the grey range: a cut or a car entering, not sensor noise
BRIGHTNESS_TOLERANCE = 0.1  # near-duplicates also differ by at most this in mean brightness
JPEG_QUALITY = 95  # as the image path re-encodes JPEG; frames are lossy already, PNG 5x larger
# The thumbnail both measures are taken on: 36×32 grey, averaged 4×4 into dHash's 9×8.
THUMB_W, THUMB_H = 36, 32
# What FFmpeg (or a Python stream under it) raises on bytes it cannot read.
DECODE_ERRORS = (av.FFmpegError, OSError, ValueError, EOFError, RuntimeError, MemoryError)
UNREADABLE = "Not a readable MP4, MOV, MKV or WebM video."


class VideoRejected(Exception):
    """One video refused, with a stable code; intake reports it per file."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VideoLimits:
    max_bytes: int
    max_pixels: int  # per frame, the same limit as an image's
    max_seconds: float
    max_fps: float  # the video's own frame rate
    max_frames: int  # frames sampled (tasks made) from one video


@dataclass(frozen=True)
class Sampling:
    mode: Literal["rate", "scene"] = "rate"
    fps: float = 1.0  # rate: frames per second taken; scene: at most this many per second
    dedupe_distance: int = 4  # bits of 64; 0 drops only frames whose hash is identical


@dataclass(frozen=True)
class VideoHeader:
    codec: str
    width: int
    height: int
    rate: float  # frames per second, 0 when the header does not say
    seconds: float | None  # None when the header does not say (a live-recorded WebM)

    def frames_at_most(self, fps: float) -> int | None:
        """The most frames sampling at ``fps`` can take, from the header alone."""
        return None if self.seconds is None else math.floor(self.seconds * fps) + 1


@dataclass(frozen=True)
class Clip:
    container: InputContainer
    stream: VideoStream
    header: VideoHeader


@dataclass(frozen=True)
class SampledFrame:
    index: int  # in decoding order, from 0
    time_s: float  # from the start of the video
    width: int
    height: int
    content: bytes  # JPEG
    sha256: str


def video_demuxer(head: bytes) -> str | None:
    """The demuxer for a file starting with ``head`` (16 bytes), or None when not a video."""
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska and WebM
        return "matroska"
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):  # ISO BMFF and QuickTime
        return "mov"
    return None


def video_looks(name: str, head: bytes) -> bool:
    """A video by its content, or by its name (so a broken one is reported as a video)."""
    return video_demuxer(head) is not None or name.lower().endswith(VIDEO_EXTENSIONS)


def video_digest(stream: IO[bytes], *, max_bytes: int) -> str:
    """The sha256 of the whole stream, read in chunks and refused past ``max_bytes``; the
    stream is left at its start."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(1 << 20):
        size += len(chunk)
        if size > max_bytes:
            message = f"The video is over {max_bytes:,} bytes, the limit."
            raise VideoRejected("file_too_large", message)
        digest.update(chunk)
    stream.seek(0)
    if size == 0:
        raise VideoRejected("invalid_video", "The file is empty.")
    return digest.hexdigest()


@contextmanager
def video_open(stream: IO[bytes], *, limits: VideoLimits) -> Iterator[Clip]:
    """Open the container and judge its header; raises VideoRejected. Closed on leaving."""
    demuxer = video_demuxer(stream.read(16))
    stream.seek(0)
    if demuxer is None:
        raise VideoRejected("invalid_video", UNREADABLE)
    try:
        container = av.open(stream, "r", format=demuxer, metadata_errors="ignore")
    except DECODE_ERRORS as exc:
        raise VideoRejected("invalid_video", UNREADABLE) from exc
    try:
        video, header = _header_check(container, limits)
        video.codec_context.options = {"max_pixels": str(limits.max_pixels)}
        video.thread_type = "AUTO"  # frame and slice threads: what makes 1080p decode keep up
        yield Clip(container, video, header)
    finally:
        container.close()


def _header_check(
    container: InputContainer, limits: VideoLimits
) -> tuple[VideoStream, VideoHeader]:
    if not container.streams.video:
        raise VideoRejected("no_video_stream", "The file holds no video stream.")
    video = container.streams.video[0]
    header = VideoHeader(
        codec=video.codec_context.name,
        width=video.codec_context.width,
        height=video.codec_context.height,
        rate=float(video.average_rate or video.guessed_rate or 0),
        seconds=_seconds(container, video),
    )
    if header.codec not in VIDEO_CODECS:
        message = (
            f"Video coded as {header.codec} is not supported; use H.264, HEVC, VP8, VP9 or AV1."
        )
        raise VideoRejected("unsupported_format", message)
    pixels = header.width * header.height
    if pixels > limits.max_pixels:
        message = f"Frames are {pixels:,} px ({header.width}×{header.height}); the limit is {limits.max_pixels:,} px."
        raise VideoRejected("video_too_large", message)
    if header.rate > limits.max_fps:
        message = f"The video runs at {header.rate:,.0f} frames per second; the limit is {limits.max_fps:,.0f}."
        raise VideoRejected("frame_rate_too_high", message)
    if header.seconds is not None and header.seconds > limits.max_seconds:
        message = (
            f"The video lasts {header.seconds:,.0f} s; the limit is {limits.max_seconds:,.0f} s."
        )
        raise VideoRejected("video_too_long", message)
    return video, header


def _seconds(container: InputContainer, video: VideoStream) -> float | None:
    if video.duration is not None and video.time_base is not None:
        return float(video.duration * video.time_base)
    return None if container.duration is None else container.duration / av.time_base


def frames_sample(clip: Clip, *, sampling: Sampling, limits: VideoLimits) -> Iterator[SampledFrame]:
    """The frames ``sampling`` keeps, as JPEG, one at a time. Refuses (VideoRejected) a video
    that cannot be decoded or runs past the limits (its header may have claimed otherwise)."""
    picker = _Picker(sampling)
    for index, frame in enumerate(_decoded(clip, limits)):
        time_s = _time(clip, frame, index)
        if not picker.due(time_s):
            continue
        thumb = frame.reformat(
            width=THUMB_W, height=THUMB_H, format="gray", interpolation="AREA"
        ).to_ndarray()
        if not picker.take(time_s, thumb):
            continue
        yield _frame_encode(frame, index, time_s)


def _decoded(clip: Clip, limits: VideoLimits) -> Iterator[av.VideoFrame]:
    """Every frame, counted against the decode budget: the limits' seconds at their rate."""
    budget = int(limits.max_seconds * limits.max_fps)
    last = 0.0
    try:
        for count, frame in enumerate(clip.container.decode(clip.stream), start=1):
            last = float(frame.time or 0.0)
            if count > budget or last > limits.max_seconds:
                raise VideoRejected(
                    "video_too_long", "The video runs past the limits its header claimed."
                )
            yield frame
    except DECODE_ERRORS as exc:
        raise VideoRejected("invalid_video", "The video data is corrupt or truncated.") from exc
    _truncation_check(clip, last)


def _truncation_check(clip: Clip, last: float) -> None:
    """A file cut at a packet boundary can decode without error: its frames then stop well
    before the duration its video stream declares (a container's own duration may include a
    longer audio track, so only the stream's is trusted here)."""
    video = clip.stream
    if video.duration is None or video.time_base is None:
        return
    declared = float(video.duration * video.time_base) - _start(clip)
    if last - _start(clip) < declared * 0.9 - 1.0:
        message = f"The video is truncated: frames stop at {last:.1f} s of {declared:.1f} s."
        raise VideoRejected("invalid_video", message)


def _start(clip: Clip) -> float:
    video = clip.stream
    return (
        float(video.start_time * video.time_base) if video.start_time and video.time_base else 0.0
    )


def _time(clip: Clip, frame: av.VideoFrame, index: int) -> float:
    if frame.time is None:  # no timestamp: count frames at the header's rate
        return index / clip.header.rate if clip.header.rate else 0.0
    return max(0.0, float(frame.time) - _start(clip))


class _Picker:
    """Which frames to take: the rate or scene rule, then the near-duplicate check against every
    frame taken so far (vectorised: one XOR and popcount over all their hashes)."""

    def __init__(self, sampling: Sampling) -> None:
        self.sampling = sampling
        self.next_time = 0.0
        self.last_thumb: np.ndarray | None = None
        self.hashes = np.empty(0, dtype=np.uint64)
        self.brightness = np.empty(0, dtype=np.float64)

    @property
    def taken(self) -> int:
        return len(self.hashes)

    def due(self, time_s: float) -> bool:
        return time_s + 1e-6 >= self.next_time

    def take(self, time_s: float, thumb: np.ndarray) -> bool:
        scene = self.sampling.mode == "scene"
        if (
            scene
            and self.last_thumb is not None
            and scene_change(self.last_thumb, thumb) <= SCENE_THRESHOLD
        ):
            return False
        if not scene:  # the next tick, whether this frame is kept or dropped as a duplicate
            self.next_time = (math.floor(time_s * self.sampling.fps + 1e-6) + 1) / self.sampling.fps
        hashed, bright = dhash(thumb), float(thumb.mean()) / 255
        if self._duplicate(hashed, bright):
            return False
        if scene:
            self.next_time = time_s + 1 / self.sampling.fps
        self.last_thumb = thumb
        self.hashes = np.append(self.hashes, hashed)
        self.brightness = np.append(self.brightness, bright)
        return True

    def _duplicate(self, hashed: np.uint64, bright: float) -> bool:
        if not self.taken:
            return False
        near = np.bitwise_count(self.hashes ^ hashed) <= self.sampling.dedupe_distance
        alike = np.abs(self.brightness - bright) <= BRIGHTNESS_TOLERANCE
        return bool(np.any(near & alike))


def dhash(thumb: np.ndarray) -> np.uint64:
    """Difference hash of a 32×36 grey thumbnail: averaged to 8×9, then one bit per pair of
    neighbours in a row (is the right one brighter?). Our own ten lines rather than the
    ``imagehash`` package: PyAV already hands us the small grey array (no PIL image per frame),
    and a dependency tree (PyWavelets, SciPy) for one hash is not worth it."""
    small = thumb.astype(np.float32).reshape(8, THUMB_H // 8, 9, THUMB_W // 9).mean(axis=(1, 3))
    bits = small[:, 1:] > small[:, :-1]
    return np.uint64(np.packbits(bits.ravel()).view(">u8")[0])


def scene_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two grey thumbnails, as a share of the grey range."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean()) / 255


def _frame_encode(frame: av.VideoFrame, index: int, time_s: float) -> SampledFrame:
    image = Image.fromarray(frame.to_ndarray(format="rgb24"))  # colour space converted by FFmpeg
    if frame.rotation:  # a phone's display matrix: counter-clockwise degrees, as PIL rotates
        image = image.rotate(frame.rotation, expand=True)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    content = out.getvalue()
    return SampledFrame(
        index,
        round(time_s, 3),
        image.width,
        image.height,
        content,
        hashlib.sha256(content).hexdigest(),
    )
