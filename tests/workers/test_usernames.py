"""Look-alike account names: normalised first, then refused when a person could mistake them for
a taken one (TR39 skeletons)."""

import pytest

from accounts.models import Role, WorkerProfile
from accounts.services import user_create
from accounts.usernames import username_skeleton

pytestmark = pytest.mark.django_db

SECRET = "a-long-enough-secret-42"


@pytest.mark.parametrize(
    ("taken", "alike"),
    [
        ("staffer", "st\u0430ffer"),  # Cyrillic a
        ("staffer", "\uff33taffer"),  # full-width S: NFKC before the case-insensitive check
        ("staffer", "STAFFER"),
        ("paul1", "pauI1"),  # capital I for l
        ("admin", "adrnin"),  # rn for m
        ("kofi0", "kofiO"),
    ],
)
def test_a_name_a_person_could_mistake_for_a_taken_one_is_refused(client, taken, alike):
    user_create(username=taken, password=SECRET, role=Role.WORKER)
    response = client.post(
        "/api/v1/auth/register/",
        {"username": alike, "password": SECRET},
        content_type="application/json",
    )
    assert response.status_code == 409, response.content
    assert response.json()["error"]["field"] == "username"
    assert WorkerProfile.objects.count() == 1


def test_the_sign_up_form_says_so_too(client):
    user_create(username="thandi", password=SECRET, role=Role.WORKER)
    form = {"username": "th\u0430ndi", "password": SECRET, "password_again": SECRET}
    response = client.post("/signup/", form)
    assert response.status_code == 200
    assert "looks like one that is taken" in response.content.decode()


def test_names_that_only_look_different_are_stored_normalised():
    user = user_create(username="\uff2eomsa", password=SECRET, role=Role.WORKER)
    assert user.username == "Nomsa"
    assert user.profile.name_skeleton == username_skeleton("nomsa")


@pytest.mark.parametrize(("a", "b"), [("amara", "amari"), ("kofi", "koffi"), ("sim-w1", "sim-w2")])
def test_different_names_have_different_skeletons(a, b):
    assert username_skeleton(a) != username_skeleton(b)
