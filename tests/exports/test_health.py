"""Grouped splits, the health report, the diff from the previous version and the webhook rule
for an identical version (issue 15)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from annotations.models import Task, TaskState
from exports.dataset import dataset_write
from exports.models import Export
from exports.options import export_options_build
from tests.exports.helpers import assert_refused, manifest_of, tree_bytes

pytestmark = pytest.mark.django_db


def _groups(project, groups: list[dict | None]) -> list[Task]:
    tasks = list(project.tasks.order_by("sha256"))
    for task, group in zip(tasks, groups, strict=False):
        if group is not None:
            task.metadata = group
    Task.objects.bulk_update(tasks, ["metadata"])
    return tasks


def _export(project, tmp_path, name: str, **options) -> Path:
    built = export_options_build(
        kind=project.kind,
        fmt="csv",
        split=options.pop("split", (0.5, 0.5, 0.0)),
        min_confidence=None,
        **options,
    )
    dataset_write(project=project, options=built, out=tmp_path / name, as_zip=False)
    return tmp_path / name


def _splits(out: Path) -> dict[str, str]:
    rows = csv.DictReader(io.StringIO(tree_bytes(out)["tasks.csv"].decode()))
    return {row["task"]: row["split"] for row in rows}


def test_every_frame_of_a_group_lands_in_one_split_and_stays_there_across_versions(
    accepted_project, tmp_path
):
    # given 40 images: sequences, a camera without sequences, a video's frames and loose images
    project = accepted_project("classification", images=40)
    kinds = [
        lambda i: {"group": {"camera": "gate", "sequence": f"s{i // 4 % 4}"}},
        lambda i: {"group": {"camera": "yard"}},
        lambda i: {"video": {"name": "v.mp4", "sha256": "ab" * 32, "time_s": i, "frame": i}},
        lambda i: None,
    ]
    tasks = _groups(project, [kinds[i % 4](i) for i in range(40)])
    # when it is exported, then once more after a task left the export
    first = _splits(_export(project, tmp_path, "v1"))
    Task.objects.filter(pk=tasks[0].pk).update(state=TaskState.OPEN)
    second = _splits(_export(project, tmp_path, "v2"))
    # then each sequence, the camera and the video sit in one split each
    placed = defaultdict(set)
    for task in tasks:
        meta = task.metadata
        key = meta.get("group", {}).get("sequence") or meta.get("group", {}).get("camera")
        key = key or meta.get("video", {}).get("sha256")
        if key:
            placed[key].add(first[str(task.pk)])
    assert len(placed) == 6
    assert all(len(splits) == 1 for splits in placed.values())
    # and no remaining image moved between the versions
    assert all(second[task] == first[task] for task in second)


def test_group_by_is_checked_by_the_api_and_the_command(requester_client, accepted_project):
    project = accepted_project("bbox", images=2)
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/exports/",
        {"format": "coco", "group_by": "site"},
        format="json",
    )
    assert_refused(response, 400, "group_by", "invalid_group_by")
    with pytest.raises(CommandError, match="group_by"):
        call_command(
            "export_dataset", str(project.pk), "--format=coco", "--out=/tmp/x", "--group-by=x"
        )


def test_health_names_a_class_missing_from_a_split(accepted_project, tmp_path):
    # given one image of "truck" among "car" and "taxi" images, split in two halves
    project = accepted_project("classification", images=12)
    tasks = list(project.tasks.order_by("sha256"))
    for index, task in enumerate(tasks):
        task.accepted_label = {"label": "truck" if index == 0 else ["car", "taxi"][index % 2]}
    Task.objects.bulk_update(tasks, ["accepted_label"])
    # when it is exported
    health = manifest_of(_export(project, tmp_path, "out"))["health"]
    # then exactly one split lacks the truck, and its shares add up to one
    lacking = [split for split, names in health["missing_classes"].items() if "truck" in names]
    assert len(lacking) == 1
    assert health["shares"][lacking[0]]["truck"] == 0.0
    assert set(health["shares"]) == {"train", "val"}


def test_a_group_scattered_by_group_by_none_is_reported_as_a_leak(accepted_project, tmp_path):
    # given 20 frames of one sequence
    project = accepted_project("classification", images=20)
    _groups(project, [{"group": {"sequence": "s1"}}] * 20)
    # when split image by image, then by group
    scattered = manifest_of(_export(project, tmp_path, "none", group_by="none"))
    grouped = manifest_of(_export(project, tmp_path, "auto"))
    # then the per-image split leaks the sequence into both halves; the grouped one does not
    assert scattered["health"]["groups_in_several_splits"] == {
        "groups": 1,
        "listed": ["sequence:s1"],
    }
    assert grouped["health"]["groups_in_several_splits"] == {"groups": 0, "listed": []}
    assert sorted(grouped["health"]["groups"].values()) == [0, 1]
    assert sorted(row["images"] for row in grouped["groups"].values()) == [0, 20]
    assert grouped["snapshot"]["group_by"] == "auto"


def _api_export(client, project, capture, **body) -> dict:
    with capture(execute=True):
        export_id = client.post(
            f"/api/v1/projects/{project.pk}/exports/", {"format": "csv", **body}, format="json"
        ).json()["id"]
    return client.get(f"/api/v1/exports/{export_id}/").json()


def test_the_next_version_records_tasks_added_removed_and_relabelled(
    requester_client, accepted_project, django_capture_on_commit_callbacks
):
    # given a version made while one task was still open
    project = accepted_project("classification", images=6)
    tasks = list(project.tasks.order_by("sha256"))
    Task.objects.filter(pk=tasks[0].pk).update(state=TaskState.OPEN)
    first = _api_export(requester_client, project, django_capture_on_commit_callbacks)
    # when that task is accepted, another reopened and a third relabelled, and it is exported
    Task.objects.filter(pk=tasks[0].pk).update(state=TaskState.ACCEPTED)
    Task.objects.filter(pk=tasks[1].pk).update(state=TaskState.OPEN)
    Task.objects.filter(pk=tasks[2].pk).update(
        accepted_label={"label": "truck" if tasks[2].accepted_label["label"] != "truck" else "car"}
    )
    second = _api_export(requester_client, project, django_capture_on_commit_callbacks)
    # then the new version names each change against the previous one
    assert first["diff"] is None
    diff = second["diff"]
    assert diff["previous_version"] == 1
    assert diff["added"] == {"tasks": 1, "listed": [str(tasks[0].pk)]}
    assert diff["removed"] == {"tasks": 1, "listed": [str(tasks[1].pk)]}
    assert diff["label_changed"] == {"tasks": 1, "listed": [str(tasks[2].pk)]}
    assert second["identical_to"] is None


def test_an_identical_version_is_recorded_and_not_announced_again(
    requester_client, accepted_project, receiver, settings, django_capture_on_commit_callbacks
):
    # given a project with a webhook and one export announced
    settings.WEBHOOK_ALLOW_PRIVATE = True
    project = accepted_project("bbox", images=3)
    requester_client.put(
        f"/api/v1/projects/{project.pk}/webhook/", {"url": receiver.url}, format="json"
    )
    first = _api_export(requester_client, project, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    # when nothing changes and it is exported again
    second = _api_export(requester_client, project, django_capture_on_commit_callbacks)
    # then the new version has the same sha256, says which version it repeats, and no message went
    assert (second["version"], second["sha256"]) == (2, first["sha256"])
    assert second["identical_to"] == 1
    assert second["diff"]["added"]["tasks"] == 0
    assert len(receiver.requests) == 1
    # and a changed project's next version is announced again
    Task.objects.filter(project=project).order_by("sha256").first().delete()
    third = _api_export(requester_client, project, django_capture_on_commit_callbacks)
    assert third["identical_to"] is None
    assert len(receiver.requests) == 2


def test_the_staff_dashboard_shows_the_latest_exports_health(
    requester_client, accepted_project, make_user, django_capture_on_commit_callbacks
):
    # given a project with an export
    project = accepted_project("classification", images=6)
    _api_export(requester_client, project, django_capture_on_commit_callbacks)
    assert Export.objects.get(project=project).health["missing_classes"]
    # when a staff member opens the project's dashboard
    client = Client()
    client.force_login(make_user(Role.REQUESTER, "staffer", staff=True))
    page = client.get(reverse("frontend:staff-dashboard", args=[project.pk]))
    # then the health panel shows the version and the splits
    assert page.status_code == 200
    body = page.content.decode()
    assert (
        "Latest export&#x27;s health (v1 csv)" in body or "Latest export's health (v1 csv)" in body
    )
    assert "no group or video in more than one split" in body
