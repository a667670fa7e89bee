"""Class folders read the way torchvision's ImageFolder reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotations.models import Task
from exports.dataset import dataset_write
from exports.options import export_options_build
from exports.writers.imagefolder import folder_name

pytestmark = pytest.mark.django_db


def export_folders(project, out: Path) -> dict:
    options = export_options_build(
        kind=project.kind, fmt="imagefolder", split=(0.5, 0.25, 0.25), min_confidence=None
    )
    return dataset_write(project=project, options=options, out=out, as_zip=False).counts


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
