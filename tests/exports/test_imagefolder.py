"""Class folders read the way torchvision's ImageFolder reads them, numbered the same in every
split."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from annotations.models import Task
from exports.dataset import dataset_write
from exports.options import export_options_build
from exports.writers.imagefolder import folder_name
from tests.exports.helpers import manifest_of

pytestmark = pytest.mark.django_db

SPLITS = ("train", "val", "test")


def export_folders(project, out: Path, *, as_zip: bool = False, split=(0.5, 0.25, 0.25)) -> dict:
    options = export_options_build(
        kind=project.kind, fmt="imagefolder", split=split, min_confidence=None
    )
    return dataset_write(project=project, options=options, out=out, as_zip=as_zip).counts


def all_labelled(project, label: str) -> None:
    Task.objects.filter(project=project, is_gold=False).update(accepted_label={"label": label})


def image_folder(root: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """What torchvision.datasets.ImageFolder finds: sorted class folders, their image files."""
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    samples = [
        (path, index)
        for index, name in enumerate(classes)
        for path in sorted((root / name).iterdir())
        if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")
    ]
    return classes, samples


def test_each_split_folder_holds_every_image_under_its_accepted_label(accepted_project, tmp_path):
    project = accepted_project("classification", images=12)
    counts = export_folders(project, tmp_path / "out")
    label_of = {t.sha256: t.accepted_label["label"] for t in Task.objects.filter(project=project)}
    seen = 0
    for split in ("train", "val", "test"):
        if not counts["images"][split]:
            continue
        classes, samples = image_folder(tmp_path / "out" / split)
        assert len(samples) == counts["images"][split]
        for path, index in samples:
            assert classes[index] == label_of[path.stem]
            seen += 1
    assert seen == 12


def test_moderation_images_are_foldered_by_verdict(accepted_project, tmp_path):
    project = accepted_project("moderation", images=8)
    export_folders(project, tmp_path / "out")
    verdict_of = {
        t.sha256: t.accepted_label["verdict"] for t in Task.objects.filter(project=project)
    }
    found = {p.stem: p.parent.name for p in (tmp_path / "out").rglob("*.png")}
    assert found == verdict_of


@pytest.mark.parametrize(
    ("label", "folder"),
    [
        ("taxi", "taxi"),
        ("minibus taxi", "minibus taxi"),
        ("../../etc", "%2E.%2F..%2Fetc"),
        ("a/b", "a%2Fb"),
        ("..", "%2E."),
        (".hidden", "%2Ehidden"),
        ("100%", "100%25"),
        ("tab\there", "tab%09here"),
    ],
)
def test_a_label_becomes_a_folder_name_that_cannot_leave_its_folder(label, folder):
    from urllib.parse import unquote

    assert folder_name(label) == folder
    assert "/" not in folder
    assert folder not in (".", "..")
    assert unquote(folder) == label


def test_a_label_with_a_slash_stays_one_folder_deep(make_project, tmp_path):
    project = make_project("classification", images=1, labels=["../escape", "b/c"])
    task = Task.objects.get(project=project)
    task.state, task.confidence = "accepted", 1.0
    task.accepted_label = {"label": "../escape"}
    task.save()
    options = export_options_build(
        kind="classification", fmt="imagefolder", split=(1.0, 0.0, 0.0), min_confidence=None
    )
    dataset_write(project=project, options=options, out=tmp_path / "out", as_zip=False)
    (image,) = [p for p in (tmp_path / "out").rglob("*.png")]
    assert image.relative_to(tmp_path / "out").parts == ("train", "%2E.%2Fescape", image.name)
    assert not (tmp_path / "escape").exists()


@pytest.mark.parametrize("as_zip", [False, True])
def test_every_split_has_every_class_folder_so_the_class_numbers_never_shift(
    accepted_project, tmp_path, as_zip
):
    # given a project whose accepted images are all "taxi": no split has a car or a truck
    project = accepted_project("classification", images=6)
    all_labelled(project, "taxi")
    # when it is exported (and a zip unpacked)
    out = tmp_path / ("out.zip" if as_zip else "out")
    counts = export_folders(project, out, as_zip=as_zip)
    root = out
    if as_zip:
        root = tmp_path / "unpacked"
        with zipfile.ZipFile(out) as archive:
            assert "test/truck/" in archive.namelist()  # an empty folder is a folder entry
            archive.extractall(root)
    # then every split lists the three classes, so "taxi" is class 1 in each of them
    for split in SPLITS:
        classes, samples = image_folder(root / split)
        assert classes == ["car", "taxi", "truck"]
        assert [index for _, index in samples] == [1] * counts["images"][split]
    assert not list((root / "val" / "car").iterdir())


def test_the_manifest_holds_the_class_index_in_label_order_and_each_class_folder(
    make_project, tmp_path
):
    project = make_project("classification", images=2, labels=["zebra", "a/b", "ant"])
    Task.objects.filter(project=project).update(
        state="accepted", confidence=1.0, accepted_label={"label": "ant"}
    )
    export_folders(project, tmp_path / "out", split=(1.0, 0.0, 0.0))
    manifest = manifest_of(tmp_path / "out")
    assert manifest["class_index"] == {"zebra": 0, "a/b": 1, "ant": 2}
    assert manifest["class_folders"] == {"zebra": "zebra", "a/b": "a%2Fb", "ant": "ant"}
    assert sorted(p.name for p in (tmp_path / "out" / "train").iterdir()) == sorted(
        manifest["class_folders"].values()
    )
    assert not (tmp_path / "out" / "val").exists()  # a split of ratio 0 has no folder at all


def test_a_moderation_export_has_both_verdict_folders_in_every_split(accepted_project, tmp_path):
    project = accepted_project("moderation", images=4)
    Task.objects.filter(project=project).update(
        accepted_label={"verdict": "safe", "categories": []}
    )
    export_folders(project, tmp_path / "out")
    for split in SPLITS:
        assert image_folder(tmp_path / "out" / split)[0] == ["safe", "unsafe"]
    assert manifest_of(tmp_path / "out")["class_index"] == {"safe": 0, "unsafe": 1}


def test_torchvision_imagefolder_numbers_the_classes_the_same_in_every_split(
    accepted_project, tmp_path
):
    datasets = pytest.importorskip(
        "torchvision.datasets",
        reason="torchvision is not installed here; image_folder() above mirrors what it reads",
    )
    project = accepted_project("classification", images=6)
    all_labelled(project, "taxi")
    counts = export_folders(project, tmp_path / "out")
    for split in SPLITS:
        # allow_empty (torchvision 0.18+): without it torchvision refuses an empty class folder
        dataset = datasets.ImageFolder(str(tmp_path / "out" / split), allow_empty=True)
        assert dataset.classes == ["car", "taxi", "truck"]
        assert dataset.targets == [1] * counts["images"][split]
