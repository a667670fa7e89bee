"""Snapshot semantics: byte-identical re-runs, a manifest that vouches for every file, a split
that holds across versions, gold and unsafe rows left out, nothing half-written ever visible."""

from __future__ import annotations

import errno
import os
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from annotations.models import Task
from exports import dataset as dataset_module
from exports import staging as staging_module
from exports.dataset import dataset_write
from exports.options import export_options_build
from exports.split import SplitRule
from sebenzai.common.errors import DomainError
from tests.exports.helpers import manifest_of, sha256, tree_bytes

pytestmark = pytest.mark.django_db

FORMATS = {"bbox": ["coco", "yolo", "voc", "csv", "jsonl"], "classification": ["imagefolder"]}
CASES = [(kind, fmt) for kind, formats in FORMATS.items() for fmt in formats]


def export(project, out: Path, fmt: str = "coco", *, as_zip: bool = False, **kwargs):
    options = export_options_build(
        kind=project.kind,
        fmt=fmt,
        split=kwargs.pop("split", (0.5, 0.25, 0.25)),
        min_confidence=kwargs.pop("min_confidence", None),
    )
    return dataset_write(project=project, options=options, out=out, as_zip=as_zip, **kwargs)


@pytest.mark.parametrize(("kind", "fmt"), CASES)
def test_two_exports_of_the_same_inputs_are_byte_identical(accepted_project, tmp_path, kind, fmt):
    project = accepted_project(kind, images=7, gold=1)
    first = export(project, tmp_path / "a.zip", fmt, as_zip=True)
    second = export(project, tmp_path / "b.zip", fmt, as_zip=True, link_images=False)
    export(project, tmp_path / "folder", fmt)
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert first.sha256 == second.sha256 == sha256((tmp_path / "a.zip").read_bytes())
    assert tree_bytes(tmp_path / "a.zip") == tree_bytes(tmp_path / "folder")


@pytest.mark.parametrize(("kind", "fmt"), CASES)
def test_the_manifest_lists_every_other_file_with_its_sha256(accepted_project, tmp_path, kind, fmt):
    project = accepted_project(kind, images=7)
    result = export(project, tmp_path / "out.zip", fmt, as_zip=True)
    files = tree_bytes(tmp_path / "out.zip")
    manifest = manifest_of(tmp_path / "out.zip")
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for path, entry in listed.items():
        assert entry["sha256"] == sha256(files[path])
        assert entry["size"] == len(files[path])
    assert result.manifest_sha256 == sha256(files["manifest.json"])
    assert manifest["platform"]["name"] == "sebenzai"
    assert manifest["platform"]["version"]
    assert manifest["format"] == fmt
    assert manifest["snapshot"]["split"] == {"train": 0.5, "val": 0.25, "test": 0.25}
    assert manifest["snapshot"]["states"] == ["accepted"]


def test_manifest_counts_per_label_and_split_match_the_tasks(accepted_project, tmp_path):
    project = accepted_project("bbox", images=9)
    export(project, tmp_path / "out", "csv")
    counts = manifest_of(tmp_path / "out")["counts"]
    rule = SplitRule(("train", "val", "test"), (0.5, 0.25, 0.25))
    expected: Counter = Counter()
    images: Counter = Counter()
    for task in Task.objects.filter(project=project):
        split = rule.of(task.sha256)
        images[split] += 1
        for box in task.accepted_label["boxes"]:
            expected[(box["label"], split)] += 1
    assert {k: v for k, v in counts["images"].items() if k != "total"} == {
        s: images[s] for s in ("train", "val", "test")
    }
    for label, by_split in counts["labels"].items():
        assert by_split == {s: expected[(label, s)] for s in ("train", "val", "test")}
    assert counts["objects"]["total"] == sum(expected.values())


def test_tasks_csv_records_which_tasks_and_which_consensus_results(accepted_project, tmp_path):
    project = accepted_project("bbox", images=4, confidence=0.91)
    export(project, tmp_path / "out")
    rows = (tmp_path / "out" / "tasks.csv").read_text().splitlines()
    assert rows[0] == "task,image,split,confidence,answers,label_hash"
    ids = {str(pk) for pk in Task.objects.filter(project=project).values_list("pk", flat=True)}
    assert {r.split(",")[0] for r in rows[1:]} == ids
    assert all(",0.91,3," in r and len(r.rsplit(",", 1)[1]) == 16 for r in rows[1:])


def test_an_image_keeps_its_split_when_the_project_grows(accepted_project, make_project, tmp_path):
    # given version 1 of a project's export
    project = accepted_project("bbox", images=12)
    export(project, tmp_path / "v1", "csv")
    before = _splits(tmp_path / "v1")
    # when more images are accepted and version 2 is exported
    from tests.exports.helpers import bulk_accepted_tasks

    bulk_accepted_tasks(project, 30)
    export(project, tmp_path / "v2", "csv")
    after = _splits(tmp_path / "v2")
    # then every image of version 1 is in the same split in version 2
    assert len(after) == 42
    assert {image: after[image] for image in before} == before


def _splits(out: Path) -> dict[str, str]:
    rows = (out / "tasks.csv").read_text().splitlines()[1:]
    return {Path(r.split(",")[1]).name: r.split(",")[2] for r in rows}


def test_the_split_follows_the_ratios_and_an_empty_split_gets_nothing():
    import hashlib

    shas = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(20_000)]
    counts = Counter(SplitRule(("train", "val", "test"), (0.8, 0.1, 0.1)).of(s) for s in shas)
    assert counts["train"] / 20_000 == pytest.approx(0.8, abs=0.01)
    assert counts["val"] / 20_000 == pytest.approx(0.1, abs=0.01)
    no_test = Counter(SplitRule(("train", "val", "test"), (0.7, 0.3, 0.0)).of(s) for s in shas)
    assert set(no_test) == {"train", "val"}
    assert SplitRule(("train", "val", "test"), (1.0, 0.0, 0.0)).of("f" * 64) == "train"


def test_gold_tasks_and_open_tasks_are_never_exported(accepted_project, tmp_path):
    project = accepted_project("bbox", images=3, gold=2)
    gold = set(Task.objects.filter(project=project, is_gold=True).values_list("sha256", flat=True))
    export(project, tmp_path / "out", "yolo")
    names = {p.stem for p in (tmp_path / "out").rglob("*.png")}
    assert len(names) == 3
    assert not names & gold
    assert gold.isdisjoint((tmp_path / "out" / "tasks.csv").read_text())


def test_min_confidence_leaves_out_less_confident_tasks_and_counts_them(accepted_project, tmp_path):
    project = accepted_project("bbox", images=5, confidence=0.95)
    unsure = Task.objects.filter(project=project).order_by("sha256")[:2]
    Task.objects.filter(pk__in=[t.pk for t in unsure]).update(confidence=0.6)
    result = export(project, tmp_path / "out", "coco", min_confidence=0.9)
    assert result.counts["images"]["total"] == 3
    assert result.counts["skipped"] == {"below_min_confidence": 2}
    assert manifest_of(tmp_path / "out")["snapshot"]["min_confidence"] == 0.9


@pytest.mark.parametrize(
    "reference",
    [
        "/media/../../settings.py",
        "../../etc/passwd",
        "file:///etc/passwd",
        "/etc/passwd",
        "images/ab/../../../sebenzai/settings.py",
        "OTHER",  # another image's key, e.g. another tenant's
    ],
)
def test_a_task_whose_image_points_outside_its_own_stored_file_is_skipped_and_reported(
    accepted_project, make_project, tmp_path, reference
):
    # given a task row whose image reference was tampered with
    project = accepted_project("bbox", images=3)
    other = make_project("bbox", images=1, owner=None, name="other tenant")
    victim = Task.objects.filter(project=project).order_by("sha256").first()
    if reference == "OTHER":
        reference = Task.objects.filter(project=other).exclude(sha256=victim.sha256).first().image
    Task.objects.filter(pk=victim.pk).update(image=reference)
    # when the project is exported as a zip
    result = export(project, tmp_path / "out.zip", "coco", as_zip=True)
    # then only the other tasks' own images are in it, and the tampered one is reported
    members = set(zipfile.ZipFile(tmp_path / "out.zip").namelist())
    images = {m for m in members if m.endswith(".png")}
    expected = {
        f"images/{_split(t.sha256)}/{t.sha256}.png"
        for t in Task.objects.filter(project=project).exclude(pk=victim.pk)
    }
    assert images == expected
    assert result.counts["skipped"] == {"unsafe_image_reference": 1}
    manifest = manifest_of(tmp_path / "out.zip")
    assert manifest["skipped_tasks"] == [
        {"task": str(victim.pk), "reason": "unsafe_image_reference"}
    ]


def _split(sha: str) -> str:
    return SplitRule(("train", "val", "test"), (0.5, 0.25, 0.25)).of(sha)


def test_a_stored_image_replaced_by_a_symlink_is_not_followed(accepted_project, tmp_path):
    project = accepted_project("bbox", images=2)
    victim = Task.objects.filter(project=project).order_by("sha256").first()
    path = Path(settings.MEDIA_ROOT) / victim.image
    path.unlink()
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    path.symlink_to(secret)
    result = export(project, tmp_path / "out.zip", "coco", as_zip=True)
    assert result.counts["skipped"] == {"unsafe_image_reference": 1}
    assert not any(b"top secret" in data for data in tree_bytes(tmp_path / "out.zip").values())


def test_a_missing_image_file_is_skipped_and_reported(accepted_project, tmp_path):
    project = accepted_project("bbox", images=2)
    victim = Task.objects.filter(project=project).first()
    (Path(settings.MEDIA_ROOT) / victim.image).unlink()
    result = export(project, tmp_path / "out", "voc")
    assert result.counts["skipped"] == {"missing_image": 1}
    assert not (tmp_path / "out" / "Annotations" / f"{victim.sha256}.xml").exists()


def test_images_are_hard_linked_not_re_encoded_or_copied_when_they_can_be(
    accepted_project, tmp_path
):
    project = accepted_project("bbox", images=2)
    export(project, tmp_path / "out", "yolo")
    for task in Task.objects.filter(project=project):
        (exported,) = (tmp_path / "out" / "images").rglob(f"{task.sha256}.png")
        stored = Path(settings.MEDIA_ROOT) / task.image
        assert exported.read_bytes() == stored.read_bytes()
        assert os.path.samefile(exported, stored)


def test_images_are_copied_when_the_filesystem_refuses_a_link(
    accepted_project, tmp_path, monkeypatch
):
    project = accepted_project("bbox", images=2)

    def no_link(*args, **kwargs):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(staging_module.os, "link", no_link)
    export(project, tmp_path / "out", "yolo")
    for task in Task.objects.filter(project=project):
        (exported,) = (tmp_path / "out" / "images").rglob(f"{task.sha256}.png")
        stored = Path(settings.MEDIA_ROOT) / task.image
        assert exported.read_bytes() == stored.read_bytes()
        assert not os.path.samefile(exported, stored)


# --- refusals and atomicity ------------------------------------------------------------------


def test_an_empty_project_is_refused_and_nothing_is_written(make_project, tmp_path):
    project = make_project("bbox", images=2)  # nothing accepted
    with pytest.raises(DomainError) as refused:
        export(project, tmp_path / "out")
    assert refused.value.code == "empty_export"
    assert list(tmp_path.iterdir()) == [tmp_path / "media"]


def test_a_project_whose_every_task_is_filtered_out_is_refused(accepted_project, tmp_path):
    project = accepted_project("bbox", images=2, confidence=0.5)
    with pytest.raises(DomainError) as refused:
        export(project, tmp_path / "out", min_confidence=0.9)
    assert refused.value.code == "empty_export"
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]


@pytest.mark.parametrize("as_zip", [False, True])
def test_an_output_that_exists_and_is_not_empty_is_refused_unless_forced(
    accepted_project, tmp_path, as_zip
):
    project = accepted_project("bbox", images=2)
    out = tmp_path / ("out.zip" if as_zip else "out")
    if as_zip:
        out.write_bytes(b"keep me")
    else:
        out.mkdir()
        (out / "keep.txt").write_text("keep me")
    with pytest.raises(DomainError) as refused:
        export(project, out, as_zip=as_zip)
    assert refused.value.code == "output_exists"
    kept = out.read_bytes() if as_zip else (out / "keep.txt").read_bytes()
    assert kept == b"keep me"
    export(project, out, as_zip=as_zip, force=True)
    assert "manifest.json" in tree_bytes(out)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]


def test_an_empty_output_folder_is_used(accepted_project, tmp_path):
    project = accepted_project("bbox", images=2)
    (tmp_path / "out").mkdir()
    export(project, tmp_path / "out")
    assert (tmp_path / "out" / "manifest.json").is_file()


@pytest.mark.parametrize("as_zip", [False, True])
def test_an_export_interrupted_midway_leaves_nothing_at_the_destination(
    accepted_project, tmp_path, as_zip, monkeypatch
):
    # given an export that is stopped (Ctrl-C, SIGTERM) part-way through its tasks
    from tests.exports.helpers import bulk_accepted_tasks

    project = accepted_project("bbox", images=1)
    bulk_accepted_tasks(project, 30)
    monkeypatch.setattr(dataset_module, "PROGRESS_EVERY", 5)
    out = tmp_path / ("out.zip" if as_zip else "out")
    seen = []

    def progress(done: int, total: int) -> None:
        # while it runs, the destination does not exist and the work is hidden beside it
        assert not out.exists()
        seen.append([p.name for p in tmp_path.iterdir() if p.name.startswith(".export-")])
        if done >= 15:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export(project, out, as_zip=as_zip, progress=progress)
    # then nothing is at the destination and the work folder is gone
    assert seen
    assert all(len(s) == 1 for s in seen)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]


def test_a_failing_writer_leaves_the_previous_export_in_place(
    accepted_project, tmp_path, monkeypatch
):
    project = accepted_project("bbox", images=3)
    export(project, tmp_path / "out", "csv")
    before = tree_bytes(tmp_path / "out")
    monkeypatch.setattr(
        "exports.writers.tabular.CsvWriter.finish",
        lambda self: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")),
    )
    with pytest.raises(OSError, match="No space"):
        export(project, tmp_path / "out", "csv", force=True)
    assert tree_bytes(tmp_path / "out") == before


def test_memory_does_not_grow_with_the_number_of_tasks(accepted_project, tmp_path, monkeypatch):
    """The rows stream in chunks and every file is written as its task is read: peak memory
    for 600 tasks is about that for 60 (tracemalloc, Python allocations)."""
    import tracemalloc

    from exports import selectors
    from tests.exports.helpers import bulk_accepted_tasks

    monkeypatch.setattr(selectors, "ROW_CHUNK", 50)
    peaks = []
    for count in (60, 600):
        project = accepted_project("bbox", images=0, name=f"p{count}")
        bulk_accepted_tasks(project, count, boxes=5, seed=count)
        tracemalloc.start()
        export(project, tmp_path / f"out{count}.zip", "coco", as_zip=True)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] * 1.5 + 256 * 1024, peaks
