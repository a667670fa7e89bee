"""The export pipeline's own shortcuts: rows fetched a chunk ahead on a thread, and the zip's
sha256 taken as it is written rather than read back. Each must give what the plain way gives."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from exports import archive, image_files, selectors
from exports.dataset import dataset_write
from exports.options import export_options_build
from exports.selectors import task_rows_for_export
from tests.exports.helpers import bulk_accepted_tasks

pytestmark = pytest.mark.django_db


def export_zip(project, out: Path):
    options = export_options_build(kind="bbox", fmt="coco", split=None, min_confidence=None)
    return dataset_write(project=project, options=options, out=out, as_zip=True)


def test_rows_fetched_ahead_come_once_each_in_sha256_order(accepted_project, monkeypatch):
    # given a project of 30 tasks read in chunks of 7 (five chunks, the last short)
    monkeypatch.setattr(selectors, "ROW_CHUNK", 7)
    project = accepted_project("bbox", images=0)
    bulk_accepted_tasks(project, 30)
    # when its rows are read
    rows = list(task_rows_for_export(project=project, states=["accepted"]))
    # then every task comes once, in the export's stable order
    shas = [row.sha256 for row in rows]
    assert shas == sorted(project.tasks.values_list("sha256", flat=True))


def test_a_zip_exports_sha256_is_the_sha256_of_its_bytes(accepted_project, tmp_path):
    project = accepted_project("bbox", images=0)
    bulk_accepted_tasks(project, 40, boxes=3)
    result = export_zip(project, tmp_path / "out.zip")
    assert result.sha256 == hashlib.sha256((tmp_path / "out.zip").read_bytes()).hexdigest()
    assert result.size == (tmp_path / "out.zip").stat().st_size


def test_the_sha256_holds_when_images_are_streamed_into_the_zip(
    accepted_project, tmp_path, monkeypatch
):
    # given images past the in-memory size: each entry's header is rewritten once it is packed
    monkeypatch.setattr(archive, "IN_MEMORY", 16)
    monkeypatch.setattr(image_files, "IN_MEMORY", 16)
    project = accepted_project("bbox", images=0)
    bulk_accepted_tasks(project, 12)
    # when exported as a zip
    result = export_zip(project, tmp_path / "out.zip")
    # then the recorded sha256 is that of the finished file, which reads back whole
    data = (tmp_path / "out.zip").read_bytes()
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.testzip() is None
