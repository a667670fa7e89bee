"""Two web nodes as production runs them (gunicorn -c deploy/gunicorn.conf.py, two processes
each) on two ports, sharing PostgreSQL, Redis (broker and cache) and an S3-compatible object
store, with a real Celery worker: a worker's requests alternate between the nodes and behave as
on one node. A lease taken on one is answered on the other, an image stored by one process is
served by another, a session signed in on one is honoured by the other, and a rate limit counts
the requests made to both."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from rest_framework.authtoken.models import Token

from annotations.models import Task, TaskState
from tests.helpers import PASSWORD
from tests.integration.helpers import needs_services, wait_for, worker_env
from tests.processes import ROOT, WebNode

pytestmark = [pytest.mark.integration, needs_services, pytest.mark.django_db(transaction=True)]

WORK_PER_MINUTE = 8  # the nodes' THROTTLE_WORK: a worker's leases per minute, on all nodes


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is looked at, not followed: a browser does not carry our Authorization header
    to the store, and neither does this client."""

    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """One person's HTTP client, by token or by the session cookie it signed in with."""

    def __init__(self, token: str | None = None) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self._open = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect()
        ).open
        self.headers = {"Authorization": f"Token {token}"} if token else {}

    def call(self, method: str, url: str, body: dict | None = None, form: dict | None = None):
        """Status, headers and body of one request; ``body`` goes as JSON, ``form`` as a form."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            data, headers["Referer"] = urllib.parse.urlencode(form).encode(), url
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with self._open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
        status, _, raw = self.call(method, url, body)
        return status, (json.loads(raw) if raw else {})

    def image(self, url: str) -> bytes:
        """The image's bytes: served by the node, or by the store at the URL it redirects to."""
        status, headers, raw = self.call("GET", url)
        if status == 302:
            with urllib.request.urlopen(headers["Location"], timeout=30) as stored:  # noqa: S310
                return stored.read()
        assert status == 200, raw[:300]
        return raw

    def sign_in(self, node: WebNode, username: str) -> None:
        status, _, page = self.call("GET", f"{node.base_url}/accounts/login/")
        assert status == 200, page[:300]
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        form = {"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD}
        status, _, page = self.call("POST", f"{node.base_url}/accounts/login/", form=form)
        assert status == 302, re.findall(rb"errorlist[^<]*<li>([^<]*)", page)  # signed in


@pytest.fixture(scope="module")
def static_root(tmp_path_factory) -> str:
    """Production's static files (hashed names, the manifest) for pages rendered with DEBUG off;
    only our own: the admin's and the API browser's are not on the pages used here."""
    root = str(tmp_path_factory.mktemp("static"))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0",
         "-i", "admin", "-i", "rest_framework", "-i", "drf_spectacular_sidecar"],
        cwd=ROOT, env={**os.environ, "STATIC_ROOT": root, "DEBUG": "0",
                       "DJANGO_SETTINGS_MODULE": "sebenzai.settings",
                       "SECRET_KEY": "static-" + "s" * 50},
        check=True, timeout=300,
    )  # fmt: skip
    return root


@pytest.fixture
def two_nodes(object_store, celery_worker_process, static_root, tmp_path):
    env = {
        "STATIC_ROOT": static_root,
        **worker_env(settings.REDIS_URL, celery_worker_process.queue),
        **object_store.env,
        "CACHE_URL": settings.REDIS_URL,  # sessions in the database, throttles in Redis
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_COOKIES": "0",  # plain HTTP on loopback
        "MIN_ANSWER_MS": "0",
        "THROTTLE_WORK": f"{WORK_PER_MINUTE}/min",
    }
    nodes = [WebNode(env, tmp_path / f"node{i}.log") for i in (1, 2)]
    try:
        for node in nodes:
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def _token(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def test_a_crowd_alternating_between_two_nodes_gets_one_nodes_behaviour(
    two_nodes, object_store, make_project, make_user
):
    # given two tasks whose images went to the object store
    project = make_project(images=2)
    workers = [Client(_token(make_user(name=f"node-worker-{i}"))) for i in range(3)]
    api = [f"{node.base_url}/api/v1" for node in two_nodes]
    stored = {str(t.pk): t.image for t in Task.objects.filter(project=project)}
    # when each worker leases on one node, loads the image and answers on the other, twice
    for turn in range(2):
        for index, worker in enumerate(workers):
            here, there = api[(index + turn) % 2], api[(index + turn + 1) % 2]
            status, work = worker.json("POST", f"{here}/work/next/", {"project": str(project.pk)})
            assert status == 200, work
            image = worker.image(there.removesuffix("/api/v1") + work["image_url"])
            assert (
                image
                == object_store.client.get_object(
                    Bucket=object_store.name, Key=stored[work["task"]]
                )["Body"].read()
            )
            answer = {"payload": {"label": "taxi"}, "duration_ms": 900}
            path = f"{there}/work/assignments/{work['assignment']}/submit/"
            status, body = worker.json("POST", path, answer)
            assert status == 201, body
    # then every answer is stored once and both tasks are decided, as on one node
    tasks = Task.objects.filter(project=project)
    assert wait_for(lambda: all(t.state == TaskState.ACCEPTED for t in tasks.all()), timeout=30)
    assert [t.answers_count for t in tasks] == [3, 3]
    # and each node tells a worker the same points
    seen = [workers[0].json("GET", f"{base}/me/")[1] for base in api]
    assert seen[0] == seen[1]


def test_a_session_signed_in_on_one_node_is_honoured_by_the_other(two_nodes, make_user):
    user = make_user(name="node-session")
    # hashed as production hashes (the tests' own settings use a fast hasher it does not know)
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    browser = Client()
    browser.sign_in(two_nodes[0], user.username)
    status, me = browser.json("GET", f"{two_nodes[1].base_url}/api/v1/me/")
    assert status == 200, me
    assert me["username"] == user.username


def test_a_rate_limit_counts_the_requests_made_to_both_nodes(two_nodes, make_project, make_user):
    project = make_project(images=1)
    worker = Client(_token(make_user(name="node-hurry")))
    statuses = []
    for call in range(WORK_PER_MINUTE + 2):
        base = two_nodes[call % 2].base_url
        body = {"project": str(project.pk)}
        statuses.append(worker.json("POST", f"{base}/api/v1/work/next/", body)[0])
        time.sleep(0.05)
    # each node's processes alone saw at most half of them: only a shared count refuses these
    assert statuses[:WORK_PER_MINUTE] == [200] * WORK_PER_MINUTE
    assert statuses[WORK_PER_MINUTE:] == [429, 429]
