"""Auto-accept with audit: a credible, sure model's prediction is accepted without people, but a
share of those tasks goes to people as an audit of the model; when the audits find it wrong too
often, auto-accept stops by itself."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from annotations.models import Task, TaskState
from annotations.services.intake import IncomingFile, tasks_create_from_files
from consensus.model_votes import AUTO_METHOD, audit_figures, auto_accept_on, model_skill
from consensus.models import ConsensusResult
from exports.dataset import dataset_write
from exports.options import export_options_build
from predictions.models import ModelVersion, Prediction
from tests.consensus.test_model_votes import answer, gold_and_open, post_predictions
from tests.helpers import png_bytes
from workers.models import PointsEntry

pytestmark = pytest.mark.django_db


def auto_project(make_project, images: int, audit_share: float):
    return make_project(
        images=images,
        acceptance_threshold=0.9,
        model_auto_accept=True,
        model_audit_share=audit_share,
    )


def credible_model(client, project, capture, open_label="taxi", score=0.97):
    golds, open_tasks = gold_and_open(project, 10)
    labels = {t.pk: "car" for t in golds} | {t.pk: open_label for t in open_tasks}
    post_predictions(client, project, labels, score=score, capture=capture)
    return open_tasks


def test_a_sure_credible_model_is_accepted_without_people_and_never_paid(
    make_project, requester_client, django_capture_on_commit_callbacks
):
    project = auto_project(make_project, images=13, audit_share=0.0)
    open_tasks = credible_model(requester_client, project, django_capture_on_commit_callbacks)
    for task in open_tasks:
        task.refresh_from_db()
        assert task.state == TaskState.ACCEPTED
        assert task.accepted_by_model is True
        assert task.accepted_label == {"label": "taxi"}
        assert task.answers_count == 0
        assert ConsensusResult.objects.get(task=task).method == AUTO_METHOD
    assert not PointsEntry.objects.exists()


def test_an_unsure_prediction_is_not_accepted_on_the_models_word(
    make_project, requester_client, django_capture_on_commit_callbacks
):
    # given a credible model that scores the open task only 0.6 (the threshold is 0.9)
    project = auto_project(make_project, images=11, audit_share=0.0)
    golds, (task,) = gold_and_open(project, 10)
    capture = django_capture_on_commit_callbacks
    post_predictions(requester_client, project, {t.pk: "car" for t in golds}, capture=capture)
    post_predictions(
        requester_client, project, {task.pk: "taxi"}, model="m@1", score=0.6, capture=capture
    )
    # then people decide it: two of them, as the model is not sure enough for one to do
    task.refresh_from_db()
    assert (task.state, task.accepted_by_model, task.target_redundancy) == (
        TaskState.OPEN,
        False,
        2,
    )


def test_auto_accept_is_off_unless_the_project_asks(
    make_project, requester_client, django_capture_on_commit_callbacks
):
    project = make_project(images=11, acceptance_threshold=0.9)
    (task,) = credible_model(requester_client, project, django_capture_on_commit_callbacks)
    task.refresh_from_db()
    assert (task.state, task.accepted_by_model) == (TaskState.OPEN, False)


def test_an_audit_is_decided_by_people_alone_and_grades_the_model(
    make_project, requester_client, worker_clients, django_capture_on_commit_callbacks
):
    # given every sure task drawn as an audit
    project = auto_project(make_project, images=11, audit_share=1.0)
    capture = django_capture_on_commit_callbacks
    (task,) = credible_model(requester_client, project, capture)
    task.refresh_from_db()
    # then it wants the usual three people, and the model's vote is not among them
    assert (task.model_audit, task.target_redundancy) == (True, 3)
    for client in worker_clients[:3]:
        answer(client, project, "truck", capture)
    task.refresh_from_db()
    assert task.state == TaskState.ACCEPTED
    assert all("prediction" not in c for c in ConsensusResult.objects.get(task=task).contributors)
    # and the model, which said taxi, is graded wrong by the audit
    assert Prediction.objects.get(task=task).agreement == 0.0
    assert audit_figures(version=ModelVersion.objects.get())["accuracy"] == 0.0


def test_audits_that_find_the_model_wrong_stop_auto_accept(
    make_project, requester_client, worker_clients, django_capture_on_commit_callbacks
):
    # given a sure, credible model whose five open tasks were all drawn as audits
    project = auto_project(make_project, images=15, audit_share=1.0)
    capture = django_capture_on_commit_callbacks
    credible_model(requester_client, project, capture)
    version = ModelVersion.objects.get()
    assert auto_accept_on(version=version, skill=model_skill(version=version))
    # when people decide all five otherwise than the model
    for _ in range(5):
        for client in worker_clients[:3]:
            answer(client, project, "truck", capture)
    assert audit_figures(version=version) | {"auto_accepted": 0} == {
        "audits": 5, "audited": 5, "accuracy": 0.0, "auto_accepted": 0}  # fmt: skip
    # then auto-accept is off for it, even where no audit would be drawn
    assert not auto_accept_on(version=version, skill=model_skill(version=version))
    project.model_audit_share = 0.0
    project.save(update_fields=["model_audit_share"])
    files = [IncomingFile("images[0]", "late.png", lambda: png_bytes(seed=99))]
    tasks_create_from_files(project=project, files=files)
    late = Task.objects.get(project=project, original_name="late.png")
    post_predictions(
        requester_client, project, {late.pk: "taxi"}, model="m@1", score=0.97, capture=capture
    )
    late.refresh_from_db()
    assert (late.state, late.accepted_by_model, late.target_redundancy) == (
        TaskState.OPEN,
        False,
        1,
    )


def test_the_workers_page_shows_what_the_model_accepted_and_its_audits(
    make_project, requester_client, make_user, django_capture_on_commit_callbacks
):
    project = auto_project(make_project, images=13, audit_share=0.0)
    credible_model(requester_client, project, django_capture_on_commit_callbacks)
    staff = make_user(name="admin", staff=True)
    client = Client()
    client.force_login(staff)
    page = client.get(f"/staff/projects/{project.pk}/workers/").content.decode()
    assert "m@1 (model)" in page
    assert "3 accepted on its word; audits: none yet" in page


def test_an_export_says_which_labels_a_model_accepted(
    make_project, requester_client, django_capture_on_commit_callbacks, tmp_path
):
    # given three tasks accepted on a model's word
    project = auto_project(make_project, images=13, audit_share=0.0)
    open_tasks = credible_model(requester_client, project, django_capture_on_commit_callbacks)
    # when the project is exported
    options = export_options_build(kind=project.kind, fmt="jsonl", split=None, min_confidence=None)
    dataset_write(project=project, options=options, out=tmp_path / "out", as_zip=False)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    # then the manifest counts and names them
    by_model = manifest["counts"]["accepted_by_model"]
    assert by_model["tasks"] == 3
    assert sorted(by_model["listed"]) == sorted(str(t.pk) for t in open_tasks)


def test_progress_counts_what_the_model_accepted_and_the_audits(
    make_project, requester_client, django_capture_on_commit_callbacks
):
    project = auto_project(make_project, images=13, audit_share=0.0)
    credible_model(requester_client, project, django_capture_on_commit_callbacks)
    progress = requester_client.get(f"/api/v1/projects/{project.pk}/progress/").json()
    versions = progress["models"].pop("versions")
    assert progress["models"] == {
        "accepted_by_model": 3,
        "audits": 0,
        "answers_per_accepted_label": 0.0,
    }
    (model,) = versions
    assert (model["model"], model["credible"], model["auto_accepted"]) == ("m@1", True, 3)
    assert (model["gold_answers"], model["gold_correct"]) == (10, 10)


def test_progress_gives_each_models_audit_accuracy(
    make_project, requester_client, worker_clients, django_capture_on_commit_callbacks
):
    # given a model audited on two tasks, people agreeing with it on one
    project = auto_project(make_project, images=12, audit_share=1.0)
    capture = django_capture_on_commit_callbacks
    credible_model(requester_client, project, capture)
    for label in ("taxi", "truck"):
        for client in worker_clients[:3]:
            answer(client, project, label, capture)
    # then /progress/ gives its audits and their accuracy
    progress = requester_client.get(f"/api/v1/projects/{project.pk}/progress/").json()
    (model,) = progress["models"]["versions"]
    assert (model["audits"], model["audited"], model["accuracy"]) == (2, 2, 0.5)
