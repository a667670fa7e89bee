"""Hostile content is never served as it came: uploaded images are re-encoded and served with
nosniff, a sandboxing policy and as a named inline file (docs/reliability.md U2, X1); names, labels and
instructions reach every page escaped, or as JSON data (X1)."""

import io
import json
import re

import pytest
from django.test import Client
from django.utils.html import escape
from PIL import Image

from annotations.models import Annotation, TaskState
from consensus.models import ConsensusResult
from consensus.review import task_review_decide
from tests.consensus.test_review import answer
from tests.helpers import lease, png_bytes

pytestmark = pytest.mark.django_db

SCRIPT = b"<html><script>alert(document.cookie)</script></html>"


def _jpeg_with_comment(comment: bytes) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, "JPEG", comment=comment)
    return out.getvalue()


@pytest.mark.parametrize(
    "payload",
    [png_bytes(seed=77) + SCRIPT, _jpeg_with_comment(SCRIPT)],
    ids=["script-after-png", "script-in-jpeg-comment"],
)
def test_a_polyglot_upload_is_served_without_its_script(
    requester_client, worker_client, make_project, payload
):
    project = make_project(images=0)
    upload = io.BytesIO(payload)
    upload.name = "poly.png"
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/tasks/", {"images": [upload]}, format="multipart"
    )
    assert len(response.json()["tasks"]) == 1, response.content
    work = lease(worker_client, project)
    served = worker_client.get(work["image_url"])
    body = b"".join(served.streaming_content) if served.streaming else served.content
    assert served.status_code == 200
    assert b"<script" not in body
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Type"] in ("image/png", "image/jpeg", "image/webp")
    assert "sandbox" in served["Content-Security-Policy"]
    assert served["Content-Disposition"].startswith("inline")


SCRIPT_BREAK = "</script><img src=x onerror=alert(1)>"
ATTR_BREAK = "\"'><svg onload=alert(1)>"


def assert_escaped(html: str, shown: tuple[str, ...]) -> None:
    for payload in (SCRIPT_BREAK, ATTR_BREAK):
        assert payload not in html
    for payload in shown:
        assert escape(payload) in html


@pytest.fixture
def hostile_task(
    make_project, make_user, make_client, worker_clients, django_capture_on_commit_callbacks
):
    """A project named, labelled and instructed with payloads, and a task in review answered by
    a worker whose name is one. Sign-up and register refuse such a name; it stands for one made
    some other way, so the pages are the second layer."""
    project = make_project(
        images=1, name=SCRIPT_BREAK, labels=[ATTR_BREAK, SCRIPT_BREAK], instructions=ATTR_BREAK,
        redundancy_max=3, acceptance_threshold=0.999,
    )  # fmt: skip
    crowd = [make_client(make_user(name=ATTR_BREAK)), *worker_clients[1:3]]
    labels = [{"label": SCRIPT_BREAK}, {"label": SCRIPT_BREAK}, {"label": ATTR_BREAK}]
    task = answer(crowd, project, labels, django_capture_on_commit_callbacks)
    assert task.state == TaskState.REVIEW
    return task


@pytest.fixture
def staff_browser(make_user) -> Client:
    browser = Client()
    browser.force_login(make_user(name="ops", staff=True))
    return browser


# Django's template autoescaping (and escape() in frontend/staff/charts.py for the charts)
@pytest.mark.parametrize(
    ("page", "shown"),
    [
        ("/staff/", (SCRIPT_BREAK,)),
        ("/staff/projects/{project}/", (SCRIPT_BREAK, ATTR_BREAK)),
        ("/staff/projects/{project}/review/", (SCRIPT_BREAK,)),
        ("/staff/projects/{project}/workers/", (SCRIPT_BREAK, ATTR_BREAK)),
        ("/staff/review/{task}/", (SCRIPT_BREAK, ATTR_BREAK)),
    ],
)
def test_staff_pages_show_hostile_names_and_labels_escaped(
    staff_browser, hostile_task, page, shown
):
    url = page.format(project=hostile_task.project_id, task=hostile_task.pk)
    response = staff_browser.get(url)
    assert response.status_code == 200
    assert_escaped(response.content.decode(), shown)


def test_the_live_dashboard_sends_its_panels_escaped(staff_browser, hostile_task):
    # the page puts this html in with innerHTML: escape() in the charts and autoescaping in
    # _panels.html are all that stand between a label and a script
    live = staff_browser.get(f"/staff/projects/{hostile_task.project_id}/live/").json()
    assert_escaped(live["html"], (SCRIPT_BREAK, ATTR_BREAK))


@pytest.fixture
def hostile_worker(hostile_task, make_user) -> Client:
    """The worker with the hostile name, signed in, after review paid their answer."""
    mine = Annotation.objects.get(task=hostile_task, worker__username=ATTR_BREAK)
    version = ConsensusResult.objects.get(task=hostile_task).version
    task_review_decide(
        task_id=hostile_task.pk, reviewer=make_user(staff=True), action="pick",
        version=version, annotation_id=mine.pk,
    )  # fmt: skip
    browser = Client()
    browser.force_login(mine.worker)
    return browser


# Django's template autoescaping
@pytest.mark.parametrize(
    ("page", "shown"),
    [
        ("/", (SCRIPT_BREAK, ATTR_BREAK)),
        ("/leaderboard/", (ATTR_BREAK,)),
        ("/history/", (SCRIPT_BREAK, ATTR_BREAK)),
        ("/projects/{project}/", (SCRIPT_BREAK, ATTR_BREAK)),
    ],
)
def test_worker_pages_show_hostile_names_and_labels_escaped(
    hostile_worker, hostile_task, page, shown
):
    response = hostile_worker.get(page.format(project=hostile_task.project_id))
    assert response.status_code == 200
    html = response.content.decode()
    assert_escaped(html, shown)
    if page == "/leaderboard/":
        assert f"<td>{escape(ATTR_BREAK)}</td>" in html  # the row, not only the top bar


def test_the_label_page_passes_a_hostile_project_name_as_json_data(hostile_worker, hostile_task):
    response = hostile_worker.get(f"/label/?project={hostile_task.project_id}")
    html = response.content.decode()
    assert_escaped(html, (ATTR_BREAK,))
    # json_script escapes <, > and & inside the element, so the data cannot close it
    data = re.search(r'<script id="label-config" type="application/json">(.*?)</script>', html)
    assert json.loads(data.group(1))["projectName"] == SCRIPT_BREAK
