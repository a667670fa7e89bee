"""The zip writer: readable by zipfile and Info-ZIP, byte-identical for the same files, zip64
when sizes or counts need it."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from exports import archive
from exports.archive import ZipWriter


def build(out: Path, files: dict[str, Path], dirs: list[str] = ()) -> None:
    with open(out, "wb") as handle, open(out.with_suffix(".cd"), "w+b") as spool:
        writer = ZipWriter(handle, spool)
        for name in dirs:
            writer.add_dir(name)
        for name, path in files.items():
            writer.add_file(name, path)
        writer.close()


@pytest.fixture
def sources(tmp_path) -> dict[str, Path]:
    contents = {
        "labels/a.txt": b"0 0.5 0.5 0.1 0.1\n" * 500,
        "images/train/b.png": os.urandom(3000),
        "ünïcode/ñame.json": b'{"x": 1}',
        "empty.txt": b"",
        "big.json": b'{"id": 1}, ' * 1_000_000,  # past the in-memory size: streamed
    }
    paths = {}
    for index, (name, data) in enumerate(contents.items()):
        path = tmp_path / f"src{index}"
        path.write_bytes(data)
        paths[name] = path
    return paths


def test_the_zip_reads_back_every_file_with_fixed_times_and_modes(tmp_path, sources):
    build(tmp_path / "x.zip", sources, dirs=["images/train", "labels"])
    with zipfile.ZipFile(tmp_path / "x.zip") as zf:
        assert zf.testzip() is None
        assert zf.namelist() == ["images/train/", "labels/", *sources]
        for name, path in sources.items():
            assert zf.read(name) == path.read_bytes()
        for info in zf.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == (0o40755 if info.is_dir() else 0o100644)
        assert zf.getinfo("images/train/b.png").compress_type == zipfile.ZIP_STORED
        assert zf.getinfo("big.json").compress_type == zipfile.ZIP_DEFLATED


def test_the_same_files_give_the_same_bytes(tmp_path, sources):
    build(tmp_path / "x.zip", sources)
    build(tmp_path / "y.zip", sources)
    assert (tmp_path / "x.zip").read_bytes() == (tmp_path / "y.zip").read_bytes()


def test_zip64_records_are_written_when_counts_and_offsets_need_them(
    tmp_path, sources, monkeypatch
):
    monkeypatch.setattr(archive, "ZIP64_LIMIT", 1000)
    monkeypatch.setattr(archive, "COUNT_LIMIT", 2)
    build(tmp_path / "z.zip", sources)
    with zipfile.ZipFile(tmp_path / "z.zip") as zf:
        assert zf.testzip() is None
        assert {n: zf.read(n) for n in zf.namelist()} == {
            n: p.read_bytes() for n, p in sources.items()
        }
    if shutil.which("unzip"):
        check = subprocess.run(["unzip", "-tq", tmp_path / "z.zip"], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout


@pytest.mark.skipif(not shutil.which("unzip"), reason="Info-ZIP unzip not installed")
def test_info_zip_accepts_the_archive(tmp_path, sources):
    build(tmp_path / "x.zip", sources, dirs=["images/train"])
    check = subprocess.run(["unzip", "-tq", tmp_path / "x.zip"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_a_symlink_is_never_followed_into_the_zip(tmp_path):
    (tmp_path / "secret").write_text("secret")
    (tmp_path / "link").symlink_to(tmp_path / "secret")
    with pytest.raises(OSError, match="symbolic link"):
        build(tmp_path / "x.zip", {"a.txt": tmp_path / "link"})
