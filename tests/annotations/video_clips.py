"""Tiny videos made in the test with PyAV itself (no binary fixtures): scenes of coarse random
blocks (their perceptual hashes stay put through lossy coding) or solid colours, held for a
number of seconds at a given frame rate."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT = 64, 48
# (PyAV muxer, encoder, file extension)
CONTAINERS = {
    "mp4": ("mp4", "libx264", "mp4"),
    "mkv": ("matroska", "libx264", "mkv"),
    "webm": ("webm", "libvpx-vp9", "webm"),
    "mov": ("mov", "mpeg4", "mov"),
}


def blocks(seed: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """An RGB picture of 8×8-pixel blocks of random colours: a distinct 'scene' per seed."""
    rng = np.random.default_rng(seed)
    grid = rng.integers(0, 256, (height // 8, width // 8, 3), dtype=np.uint8)
    return grid.repeat(8, axis=0).repeat(8, axis=1)


def solid(rgb: tuple[int, int, int], width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    return np.full((height, width, 3), rgb, dtype=np.uint8)


def clip_bytes(
    scenes: list[tuple[np.ndarray, float]],
    *,
    container: str = "mp4",
    rate: int = 10,
    faststart: bool = False,
) -> bytes:
    """A video showing each (picture, seconds) in turn at ``rate`` frames per second."""
    muxer, codec, _ = CONTAINERS[container]
    height, width = scenes[0][0].shape[:2]
    with tempfile.TemporaryDirectory() as folder:  # faststart rewrites the file: needs a path
        path = Path(folder) / f"clip.{container}"
        options = {"movflags": "faststart"} if faststart else {}
        with av.open(str(path), "w", format=muxer, options=options) as out:
            stream = out.add_stream(codec, rate=rate)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            if codec == "libx264":
                stream.options = {"crf": "12"}
            for picture, seconds in scenes:
                for _ in range(round(seconds * rate)):
                    frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                    out.mux(stream.encode(frame))
            out.mux(stream.encode())
        return path.read_bytes()


def audio_only_mp4() -> bytes:
    """An MP4 holding one AAC stream of silence and no video."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=44100)
        for index in range(20):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = 44100, index * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return out.getvalue()
