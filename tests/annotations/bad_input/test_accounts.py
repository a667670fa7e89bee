"""Bad input at POST /api/v1/auth/register/ and /api/v1/auth/token/: no account created, no
token given, refused by the contract in ``contract.py``."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.annotations.bad_input.contract import (
    MISSING,
    assert_refused,
    stored,
    with_changes,
)
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db


SIGN_UP = {"username": "newbie", "password": PASSWORD, "email": "newbie@example.org"}


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"username": MISSING}, 400, "username"),
        ({"password": MISSING}, 400, "password"),
        ({"username": 12345}, 400, "username"),
        ({"username": None}, 400, "username"),
        ({"username": "ab"}, 400, "username"),
        ({"username": "bad name!"}, 400, "username"),
        ({"username": "x" * 151}, 400, "username"),
        ({"password": 1234567890123}, 400, "password"),
        ({"password": ["correct", "horse"]}, 400, "password"),
        ({"password": "password"}, 400, "password"),
        ({"password": "newbie"}, 400, "password"),
        ({"password": "x" * 129}, 400, "password"),
        ({"email": "not-an-email"}, 400, "email"),
        ({"email": 5}, 400, "email"),
        ({"role": "requester"}, 400, "role"),
        ({"is_staff": True}, 400, "is_staff"),
        ({"points": 1000}, 400, "points"),
        ({"username": "Req_A"}, 409, "username"),
    ],
)
def test_registering_with_a_bad_field_is_refused_and_creates_no_account(
    client, requester, media_files, changes, status, field
):
    before = stored(media_files)
    response = client.post(
        "/api/v1/auth/register/", with_changes(SIGN_UP, changes), content_type="application/json"
    )
    assert_refused(response, status, field)
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "username"),
        ({"username": "req_a"}, "password"),
        ({"username": "req_a", "password": "wrong-password-123"}, "password"),
        ({"username": "nobody", "password": PASSWORD}, "password"),
        ({"username": 5, "password": PASSWORD}, "username"),
        ({"username": "req_a", "password": ["x"]}, "password"),
        ({"username": "req_a", "password": PASSWORD, "role": "worker"}, "role"),
        ([], "body"),
    ],
)
def test_asking_for_a_token_with_bad_credentials_is_refused(
    client, requester, media_files, body, field
):
    before = stored(media_files)
    response = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert_refused(response, 400, field)
    assert stored(media_files) == before


def test_wrong_password_and_unknown_user_get_the_same_answer(client, requester):
    wrong = client.post(
        "/api/v1/auth/token/",
        {"username": "req_a", "password": "wrong-password-123"},
        content_type="application/json",
    )
    nobody = client.post(
        "/api/v1/auth/token/",
        {"username": "nobody", "password": "wrong-password-123"},
        content_type="application/json",
    )
    assert wrong.content == nobody.content


def test_an_inactive_account_gets_no_token(client, requester, media_files):
    requester.is_active = False
    requester.save(update_fields=["is_active"])
    before = stored(media_files)
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "req_a", "password": PASSWORD},
        content_type="application/json",
    )
    assert_refused(response, 400, "password", "invalid_credentials")
    assert stored(media_files) == before


def test_registering_a_name_taken_at_the_same_moment_is_a_conflict_not_a_500(
    client, media_files, monkeypatch
):
    # given another request creates "newbie" between our check and our insert
    from django.db import IntegrityError

    from accounts import api

    def racing_create(**kwargs):
        raise IntegrityError("UNIQUE constraint failed: auth_user.username")

    monkeypatch.setattr(api, "user_create", racing_create)
    before = stored(media_files)
    # when
    response = client.post("/api/v1/auth/register/", SIGN_UP, content_type="application/json")
    # then
    assert_refused(response, 409, "username", "username_taken")
    assert stored(media_files) == before


def test_sign_up_and_log_in_also_take_a_form_as_the_readme_shows(client):
    # given the README's curl -d calls, which send a urlencoded form, not JSON
    form = urlencode({"username": "zanele", "password": PASSWORD})
    kind = "application/x-www-form-urlencoded"
    # when
    signed_up = client.post("/api/v1/auth/register/", form, content_type=kind)
    logged_in = client.post("/api/v1/auth/token/", form, content_type=kind)
    # then both work
    assert signed_up.status_code == 201, signed_up.content
    assert logged_in.status_code == 200, logged_in.content
    assert logged_in.json()["token"] == signed_up.json()["token"]
