"""A zip export written into the object store as it is made: ``ZipStaging``'s bytes, in the same
order, go to a multipart upload (``store.ZipUpload``) instead of a file in the work folder.

The writer never goes back over what it wrote: every entry's header is written once with its
sizes and CRC known (images are fetched whole, or spooled to a local file when large and packed in
two passes; labels files are packed on their lane before they are added, ``EntryBody``), and the
central directory is spooled to the work folder until the end. So the bytes are those of the
same export on the local disk, and what stays on local disk is that spool (under 100 bytes an
entry), the labels files being packed and one large image at a time, never the zip.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from .staging import ZipStaging
from .store import ZipUpload
from .store_images import StoreImages


class UploadStaging(ZipStaging):
    def __init__(self, work: Path, *, store: StoreImages, upload: ZipUpload) -> None:
        self.upload = upload  # before ZipStaging's init, which opens the output
        super().__init__(work, store=store)

    def _out_open(self) -> BinaryIO:
        # ZipWriter and the staging use write, tell, seekable, flush and close only.
        return self.upload  # type: ignore[return-value]

    def images_ahead(self) -> bool:
        return False  # the copier child writes a local zip file

    def finish(self) -> tuple[Path, int]:
        """Complete the upload (the object appears under its key now); also sets ``sha256``.
        The path returned is the upload's storage name."""
        self._drain()
        self._zip.close()
        self._central.close()
        self.upload.complete()
        self.sha256 = self.upload.sha256
        return Path(self.upload.name), self.upload.size
