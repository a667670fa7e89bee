"""What every bad-input test here holds an endpoint to: each refusal is a JSON 4xx whose
``error.field`` names the field, and none of them changes a stored row or leaves a file in
MEDIA_ROOT. Never a 500, never HTML.

A test takes ``before = stored(media_files)``, sends the bad request, then checks
``assert_refused(response, status, field)`` and ``stored(media_files) == before``. The tenancy
and upload-hardening tests hold their endpoints to the same contract."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from accounts.models import WorkerProfile
from annotations.models import Annotation, Assignment, Project, Task
from tests.helpers import db_snapshot

MISSING = object()  # in a table row: "leave this key out of the body"


def assert_refused(response, status: int, field: str | None, code: str | None = None) -> dict:
    """A JSON error envelope with the given status and field; returns ``error``."""
    text = response.content.decode()
    assert response.status_code == status, text
    assert response["Content-Type"].startswith("application/json"), text[:200]
    assert "Traceback" not in text
    assert "<html" not in text.lower()
    error = response.json()["error"]
    assert {"code", "message", "field"} <= set(error)
    assert error["message"], error
    assert error["field"] == field, error
    if code is not None:
        assert error["code"] == code, error
    return error


def stored(media_files) -> tuple:
    """Everything a refused request must leave as it was: rows, their key fields, and files."""
    users = get_user_model().objects
    return (
        db_snapshot(),
        sorted(Project.objects.values_list(), key=str),
        sorted(
            Task.objects.values_list(
                "id", "state", "is_gold", "gold_answer", "slots_taken", "answers_count"
            ),
            key=str,
        ),
        sorted(Assignment.objects.values_list("id", "state", "finished_at"), key=str),
        sorted(Annotation.objects.values_list("id", "payload"), key=str),
        sorted(users.values_list("username", "is_staff", "is_active")),
        sorted(WorkerProfile.objects.values_list("user__username", "role")),
        Token.objects.count(),
        media_files(),
    )


def with_changes(base: dict, changes: dict) -> dict:
    """``base`` with ``changes`` applied; a key changed to ``MISSING`` is left out."""
    body = {**base, **changes}
    return {key: value for key, value in body.items() if value is not MISSING}


def post_raw(client, url: str, text: str):
    """Send bytes the JSON encoder would refuse to write (NaN, 1e309, broken syntax)."""
    return client.post(url, data=text, content_type="application/json")


def task_of(project) -> Task:
    """The project's first task."""
    return Task.objects.filter(project=project).order_by("created_at", "id").first()
