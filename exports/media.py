"""Finding a task's image inside MEDIA_ROOT, and nothing else (docs/reliability.md Z3).

Images are stored content-addressed at ``images/<2 hex>/<sha256>.<ext>``. An export reads only
that exact path for the task's own sha256 and format, in a shard folder that resolves to where
it should (not a link elsewhere); the file itself is later opened without following a symlink
(``Staging.image``). A row naming anything else — ``../../etc/passwd``, an absolute path, a
``file://`` URL, another image's key — is skipped and reported, never read.
"""

from __future__ import annotations

import os
import re

from annotations.images import EXTENSIONS

SHA256 = re.compile(r"[0-9a-f]{64}")


class MediaIndex:
    def __init__(self, media_root: str | os.PathLike[str]) -> None:
        self._images = os.path.join(os.path.realpath(media_root), "images")
        self._shards: dict[str, bool] = {}  # at most 256 entries, checked once each

    def source(self, *, image: str, sha256: str, image_format: str) -> str | None:
        """The file to read for this task, or None when its stored reference is not the
        canonical one for its own content."""
        ext = EXTENSIONS.get(image_format)
        if ext is None or not SHA256.fullmatch(sha256):
            return None
        if image != f"images/{sha256[:2]}/{sha256}.{ext}":
            return None
        if not self._shard_ok(sha256[:2]):
            return None
        return f"{self._images}/{image[7:]}"  # image starts with "images/"

    def _shard_ok(self, shard: str) -> bool:
        if shard not in self._shards:
            expected = f"{self._images}/{shard}"
            self._shards[shard] = os.path.realpath(expected) == expected
        return self._shards[shard]
