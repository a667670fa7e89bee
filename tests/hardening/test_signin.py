"""Password guessing: every form that takes a password is limited, and the limit that stops a
stranger guessing at an account does not let the stranger lock its owner out."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Role
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _strict_login_rate(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "login": "5/min"},
    }
    cache.clear()
    yield
    cache.clear()


def _guess(client, i: int, username: str, password: str) -> int:
    """A token request from a new address each time (a botnet)."""
    return client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=f"10.7.0.{i}",
    ).status_code


@pytest.mark.parametrize("path", ["/api-auth/login/", "/admin/login/"])
def test_no_password_form_outside_the_limited_ones_accepts_a_password(client, make_user, path):
    make_user(Role.WORKER, "mpho", staff=True)
    for _ in range(8):
        response = client.post(path, {"username": "mpho", "password": "wrong-guess"})
        assert response.status_code in (302, 404)
    right = client.post(path, {"username": "mpho", "password": PASSWORD})
    assert right.status_code in (302, 404)
    assert "_auth_user_id" not in client.session  # nobody was signed in by that form


def test_the_admin_log_in_sends_staff_to_the_limited_form(client):
    response = client.get("/admin/login/?next=/admin/annotations/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/annotations/"
    offsite = client.get("/admin/login/?next=https://evil.example/")
    assert offsite["Location"] == "/accounts/login/?next=/admin/"


@pytest.mark.parametrize(
    "path", ["/accounts/password_reset/", "/accounts/reset/MQ/set-password/", "/api-auth/logout/"]
)
def test_password_reset_without_mail_is_not_served(client, path):
    assert client.get(path).status_code == 404


def test_a_stranger_guessing_cannot_lock_the_owner_out(make_user):
    # given the owner signed in once from their phone (which keeps the device cookie)
    make_user(Role.WORKER, "ayanda")
    phone = APIClient()
    assert phone.post("/api/v1/auth/token/", {"username": "ayanda", "password": PASSWORD}).status_code == 200  # fmt: skip
    # when a stranger guesses at the account from many addresses until the account is limited
    stranger = APIClient()
    statuses = [_guess(stranger, i, "Ayanda", f"wrong-{i}") for i in range(8)]
    assert statuses[0] == 400
    assert statuses[-3:] == [429] * 3
    # then the stranger cannot go on, not even with the right password from a new client
    assert _guess(APIClient(), 99, "ayanda", PASSWORD) == 429
    # but the owner's phone, and the owner's browser, still sign in
    token = phone.post("/api/v1/auth/token/", {"username": "ayanda", "password": PASSWORD})
    assert token.status_code == 200, token.content
    browser = APIClient()
    browser.cookies = phone.cookies
    form = browser.post("/accounts/login/", {"username": "ayanda", "password": PASSWORD})
    assert form.status_code == 302


def test_a_trusted_device_is_still_limited_on_its_own(make_user):
    make_user(Role.WORKER, "lwazi")
    phone = APIClient()
    assert phone.post("/api/v1/auth/token/", {"username": "lwazi", "password": PASSWORD}).status_code == 200  # fmt: skip
    statuses = [_guess(phone, i, "lwazi", f"wrong-{i}") for i in range(7)]
    assert 429 in statuses


def test_a_device_cookie_of_one_account_does_not_free_another(make_user):
    make_user(Role.WORKER, "owner1")
    make_user(Role.WORKER, "target2")
    attacker = APIClient()
    assert attacker.post("/api/v1/auth/token/", {"username": "owner1", "password": PASSWORD}).status_code == 200  # fmt: skip
    for i in range(5):
        _guess(APIClient(), i, "target2", "wrong")
    # the attacker's cookie is for owner1: on target2 it counts like any stranger's attempt
    assert _guess(attacker, 50, "target2", "wrong") == 429


def test_behind_the_proxy_sign_ups_are_counted_per_client_not_for_the_proxy(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "NUM_PROXIES": 1,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "register": "2/hour",
        },
    }

    def sign_up(name: str, address: str) -> int:
        client.logout()
        form = {"username": name, "password": PASSWORD, "password_again": PASSWORD}
        return client.post(
            "/signup/", form, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=address
        ).status_code

    # two clients behind the one proxy address: each has its own budget of two
    assert sign_up("first-a", "198.51.100.1") == 302
    assert [sign_up(f"b-{i}", "198.51.100.2") for i in range(3)] == [302, 302, 429]
    assert sign_up("second-a", "198.51.100.1") == 302
