"""Rate limits per user and per route that a forged X-Forwarded-For or a new address does not
dodge, and API tokens that die with the password or the account that obtained them."""

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Role
from annotations.models import Annotation, Assignment
from sebenzai.common.throttles import SubmitThrottle, WorkThrottle
from tests.helpers import PASSWORD, lease, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def _from_everywhere(i: int) -> dict:
    """Headers of a caller who changes address and forges a proxy header every time."""
    return {"REMOTE_ADDR": f"10.1.0.{i}", "HTTP_X_FORWARDED_FOR": f"203.0.113.{i}"}


def test_asking_for_work_too_often_is_slowed_per_worker(worker_clients, make_project, monkeypatch):
    monkeypatch.setattr(WorkThrottle, "rate", "3/min", raising=False)
    make_project(images=5)
    greedy, other = worker_clients[0], worker_clients[1]
    statuses = [
        greedy.post("/api/v1/work/next/", {}, format="json", **_from_everywhere(i)).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    refused = greedy.post("/api/v1/work/next/", {}, format="json")
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert Assignment.objects.filter(worker=greedy.user).count() == 1  # the same lease, re-served
    assert lease(other) is not None  # another worker's budget is their own


def test_submitting_and_skipping_share_one_budget_per_worker(
    worker_clients, make_project, monkeypatch
):
    monkeypatch.setattr(SubmitThrottle, "rate", "2/min", raising=False)
    make_project(images=5, redundancy_min=1, redundancy_max=1)
    worker = worker_clients[0]
    first = lease(worker)
    assert submit(worker, first["assignment"], {"label": "car"}).status_code == 201
    second = lease(worker)
    skipped = worker.post(f"/api/v1/work/assignments/{second['assignment']}/skip/", **_from_everywhere(1))  # fmt: skip
    assert skipped.status_code == 200
    third = lease(worker)
    refused = worker.post(
        f"/api/v1/work/assignments/{third['assignment']}/submit/",
        {"payload": {"label": "car"}, "duration_ms": 4000},
        format="json",
        **_from_everywhere(2),
    )
    assert refused.status_code == 429
    assert Annotation.objects.filter(worker=worker.user).count() == 1  # nothing stored
    assert Assignment.objects.get(pk=third["assignment"]).state == "leased"  # the lease waits


def test_token_log_in_is_limited_per_account_whatever_the_address(make_user, settings, client):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "login": "3/min"},
    }
    make_user(Role.WORKER, "nomsa")
    api = APIClient()

    def guess(i: int, password: str) -> int:
        body = {"username": "Nomsa", "password": password}
        return api.post(
            "/api/v1/auth/token/", body, format="json", **_from_everywhere(i)
        ).status_code

    # two guesses through the API, one through the browser's form: one budget for the account
    assert [guess(1, "wrong-1"), guess(2, "wrong-2")] == [400, 400]
    form = client.post("/accounts/login/", {"username": "nomsa", "password": "x"}, REMOTE_ADDR="10.9.9.9")  # fmt: skip
    assert form.status_code == 200
    refused = api.post(
        "/api/v1/auth/token/", {"username": "nomsa", "password": PASSWORD}, format="json",
        **_from_everywhere(3),
    )  # fmt: skip
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert not Token.objects.filter(user__username="nomsa").exists()
    # an account nobody is guessing at logs in as usual
    make_user(Role.WORKER, "sipho")
    assert api.post("/api/v1/auth/token/", {"username": "sipho", "password": PASSWORD}).status_code == 200  # fmt: skip


def _token_client(user) -> APIClient:
    api = APIClient()
    token = api.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    return api


def test_a_password_change_ends_every_token_obtained_before_it(make_user, client):
    user = make_user(Role.WORKER, "lindiwe")
    api = _token_client(user)
    assert api.get("/api/v1/me/").status_code == 200
    # signing in through the browser (which saves last_login) leaves the token alone
    assert client.login(username="lindiwe", password=PASSWORD)
    assert api.get("/api/v1/me/").status_code == 200
    # changing the password through the browser's form ends it
    new = "another-long-secret-77"
    changed = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert changed.status_code == 302
    refused = api.get("/api/v1/me/")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"
    # the new password gets a new token
    fresh = APIClient().post("/api/v1/auth/token/", {"username": "lindiwe", "password": new})
    assert fresh.status_code == 200


def test_disabling_an_account_ends_its_tokens(make_user):
    user = make_user(Role.REQUESTER, "closed")
    api = _token_client(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert api.get("/api/v1/projects/").status_code == 401
    assert not Token.objects.filter(user=user).exists()
    # and enabling it again does not bring the old token back
    user.is_active = True
    user.save()
    assert api.get("/api/v1/projects/").status_code == 401


@pytest.mark.parametrize("name", ["two words", "tab\there", "\x01\x7f", "é" * 150, ""])
def test_any_account_name_is_counted_without_a_cache_error(name, recwarn):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": name, "password": "x"}, format="json"
    )
    assert response.status_code == 400
    assert not [w for w in recwarn if "Cache key" in str(w.message)]
