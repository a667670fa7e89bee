"""One uploaded video into frame tasks: all of its sampled frames, or (refused) none.

The order keeps refusals cheap: the byte limit and the digest (reading, not decoding), then the
container's header (pixels, frame rate, duration, and so the most frames sampling can make,
judged against the per-video limit and the quota's room), and only then decoding. Frame files are
written as they are sampled, so memory holds one frame at a time; a refusal part-way deletes
the files this video wrote. The caller inserts the rows with the rest of the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from django.conf import settings

from ..images import CheckedImage
from ..models import Project, Task
from ..video import (
    SampledFrame,
    Sampling,
    VideoHeader,
    VideoLimits,
    VideoRejected,
    frames_sample,
    video_digest,
    video_open,
)
from .media import image_store, images_unstore


@dataclass
class VideoTake:
    rows: list[tuple[Task, bool]] = field(default_factory=list)  # and whether we wrote its file
    duplicates: int = 0  # frames already tasks of the project


def video_limits() -> VideoLimits:
    limits = settings.SEBENZAI
    return VideoLimits(
        max_bytes=limits["VIDEO_MAX_BYTES"],
        max_pixels=limits["IMAGE_MAX_PIXELS"],
        max_seconds=limits["VIDEO_MAX_SECONDS"],
        max_fps=limits["VIDEO_MAX_FPS"],
        max_frames=limits["VIDEO_MAX_FRAMES"],
    )


def video_frames_take(
    *,
    project: Project,
    name: str,
    stream: IO[bytes],
    sampling: Sampling,
    seen: set[str],
    room: tuple[int, str],
    metadata: dict,
) -> VideoTake:
    """Sample, store and make (unsaved) rows for the frames of one video; raises VideoRejected
    with nothing left stored. ``seen``: sha256 already in the project (not changed here);
    ``room``: how many more tasks the quotas allow, and the sentence saying which quota."""
    limits, take = video_limits(), VideoTake()
    try:
        with stream:
            digest = video_digest(stream, max_bytes=limits.max_bytes)
            with video_open(stream, limits=limits) as clip:
                most = _most_frames(clip.header, sampling, limits, room)
                source = {"name": name, "sha256": digest}
                for frame in frames_sample(clip, sampling=sampling, limits=limits):
                    if frame.sha256 in seen:
                        take.duplicates += 1
                        continue
                    if len(take.rows) >= most:
                        raise _too_many(most, limits, room)
                    take.rows.append(_frame_row(project, frame, source, metadata))
    except VideoRejected:
        images_unstore([row.image for row, written in take.rows if written])
        raise
    return take


def _most_frames(
    header: VideoHeader, sampling: Sampling, limits: VideoLimits, room: tuple[int, str]
) -> int:
    """Refuse from the header a video whose sampling would pass a limit; else the most frames
    it may make (checked again while decoding, as a header can lie)."""
    expected = header.frames_at_most(sampling.fps)
    if expected is not None and expected > limits.max_frames:
        message = (
            f"At {sampling.fps:g} frames per second this {header.seconds:,.0f} s video makes up to "
            f"{expected:,} frames; the limit is {limits.max_frames:,} per video."
        )
        raise VideoRejected("too_many_frames", message)
    left, reason = room
    if expected is not None and expected > left:
        message = f"{reason}: this video would make up to {expected:,} tasks and {left:,} fit."
        raise VideoRejected("quota_exceeded", message)
    return min(left, limits.max_frames)


def _too_many(most: int, limits: VideoLimits, room: tuple[int, str]) -> VideoRejected:
    if most < limits.max_frames:
        return VideoRejected(
            "quota_exceeded", f"{room[1]}: this video makes more than {most:,} tasks."
        )
    message = f"Sampling makes more than {most:,} frames, the limit per video."
    return VideoRejected("too_many_frames", message)


def _frame_row(
    project: Project, frame: SampledFrame, source: dict, metadata: dict
) -> tuple[Task, bool]:
    """The frame stored as an image is, and its row; the file written before the row exists."""
    image = CheckedImage(frame.sha256, "JPEG", frame.width, frame.height, frame.content)
    path, written = image_store(image)
    video = {**source, "time_s": frame.time_s, "frame": frame.index}
    stem = source["name"].rsplit(".", 1)[0] or "video"
    row = Task(
        project=project,
        image=path,
        sha256=frame.sha256,
        image_format="JPEG",
        original_name=f"{stem[:230]}-f{frame.index:06d}.jpg",
        width=frame.width,
        height=frame.height,
        target_redundancy=project.redundancy_min,
        metadata={"video": video, **metadata},
    )
    return row, written
