"""What the manifest says beyond the files: one class index for every format, and the tasks no
export holds yet because the crowd or an admin has not decided them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from annotations.models import Task, TaskState
from consensus.models import ConsensusResult, Decision
from exports.dataset import dataset_write
from exports.left_out import label_classes
from exports.options import FORMATS_BY_KIND, export_options_build
from tests.exports.helpers import manifest_of

pytestmark = pytest.mark.django_db

KIND_FORMATS = [(kind.value, fmt) for kind, formats in FORMATS_BY_KIND.items() for fmt in formats]


def export(project, out: Path, fmt: str) -> dict:
    options = export_options_build(
        kind=project.kind, fmt=fmt, split=(0.5, 0.25, 0.25), min_confidence=None
    )
    dataset_write(project=project, options=options, out=out, as_zip=False)
    return manifest_of(out)


def undecided(project, count: int, state: str, labels: list[dict | None]) -> list[Task]:
    """Turn ``count`` accepted tasks back into ``state``, with these current consensus labels
    (None: consensus has no label yet; fewer labels than tasks: no consensus row at all)."""
    tasks = list(Task.objects.filter(project=project, state="accepted").order_by("sha256"))
    chosen = tasks[:count]
    Task.objects.filter(pk__in=[t.pk for t in chosen]).update(state=state, accepted_label=None)
    for task, label in zip(chosen, labels, strict=False):
        ConsensusResult.objects.create(
            task=task, label=label, confidence=0.4, method="boxes", decision=Decision.REVIEW,
            answers=3,
        )  # fmt: skip
    return chosen


@pytest.mark.parametrize(("kind", "fmt"), KIND_FORMATS)
def test_every_format_has_the_full_class_index_in_the_projects_order(
    accepted_project, tmp_path, kind, fmt
):
    project = accepted_project(kind, images=2, labels=["zebra", "ant", "moth"])
    if kind == "classification":
        Task.objects.filter(project=project).update(accepted_label={"label": "ant"})
    manifest = export(project, tmp_path / "out", fmt)
    expected = ["safe", "unsafe"] if kind == "moderation" else ["zebra", "ant", "moth"]
    assert manifest["class_index"] == {name: i for i, name in enumerate(expected)}


def test_tasks_open_or_in_review_are_counted_by_state_and_by_their_current_label(
    accepted_project, tmp_path
):
    # given accepted box tasks, and others still open or in review: some with a label so far
    project = accepted_project("bbox", images=10, gold=1)
    car, both = (
        {"boxes": [{"label": "car", "bbox": [1, 1, 4, 4]}]},
        {
            "boxes": [
                {"label": "car", "bbox": [1, 1, 4, 4]},
                {"label": "taxi", "bbox": [5, 5, 4, 4]},
                {"label": "car", "bbox": [9, 1, 4, 4]},
            ]
        },
    )
    undecided(project, 3, TaskState.OPEN, [car, None])  # one with no consensus row at all
    undecided(project, 2, TaskState.REVIEW, [both, {"boxes": []}])
    Task.objects.filter(project=project, is_gold=True).update(state=TaskState.OPEN)
    # when the project is exported
    manifest = export(project, tmp_path / "out", "coco")
    # then the manifest counts what it left out, and the gold task is not among them
    assert manifest["counts"]["left_out"] == {
        "open": {"tasks": 3, "no_label_yet": 2, "tasks_by_label": {"car": 1, "taxi": 0}},
        "review": {"tasks": 2, "no_label_yet": 0, "tasks_by_label": {"car": 1, "taxi": 1}},
    }
    assert manifest["counts"]["images"]["total"] == 5


def test_nothing_undecided_is_said_with_zeros_not_silence(accepted_project, tmp_path):
    project = accepted_project("classification", images=3)
    manifest = export(project, tmp_path / "out", "csv")
    empty = {"tasks": 0, "no_label_yet": 0, "tasks_by_label": {"car": 0, "taxi": 0, "truck": 0}}
    assert manifest["counts"]["left_out"] == {"open": empty, "review": empty}


def test_the_command_says_how_many_tasks_it_left_out(accepted_project, tmp_path):
    project = accepted_project("classification", images=4)
    undecided(project, 1, TaskState.REVIEW, [{"label": "car"}])
    out = io.StringIO()
    args = [str(project.pk), "--format", "csv", "--out", str(tmp_path / "o")]
    call_command("export_dataset", *args, stdout=out, stderr=io.StringIO())
    assert "Left out (still review): 1" in out.getvalue()
    assert "still open" not in out.getvalue()


@pytest.mark.parametrize(
    ("kind", "label", "classes"),
    [
        ("bbox", {"boxes": [{"label": "a", "bbox": [0, 0, 1, 1]}, {"label": "b"}]}, {"a"}),
        ("polygon", {"polygons": [{"label": "a", "points": [[0, 0], [4, 0], [0, 4]]}]}, {"a"}),
        ("classification", {"label": "a"}, {"a"}),
        ("moderation", {"verdict": "unsafe", "categories": ["x"]}, {"unsafe"}),
        ("classification", ["not", "a", "label"], set()),
        ("bbox", {"boxes": "garbled"}, set()),
    ],
)
def test_the_classes_of_a_label_so_far_are_read_as_an_accepted_label_would_be(kind, label, classes):
    assert label_classes(kind, label) == classes
