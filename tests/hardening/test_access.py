"""Access rules outside the API tables: the user admin, CSRF on session writes, redirects."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from tests.conftest import PASSWORD, lease
from workers.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_manager(make_user):
    """A staff member allowed to change users, but not a superuser."""
    staff = make_user(name="helpdesk", staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_user", "view_user"])
    )
    return staff


def test_staff_who_may_change_users_cannot_grant_privileges(client, user_manager, make_user):
    target = make_user(Role.WORKER, "amara")
    client.force_login(user_manager)
    page = client.get(f"/admin/auth/user/{target.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    for field in ("is_superuser", "is_staff", "user_permissions", "groups"):
        assert f'name="{field}"' not in html  # shown read-only, not as an input
    assert 'name="is_active"' in html  # the rest stays editable

    client.post(
        f"/admin/auth/user/{user_manager.pk}/change/",
        {"username": "helpdesk", "is_superuser": "on", "is_staff": "on", "is_active": "on",
         "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"},
    )  # fmt: skip
    user_manager.refresh_from_db()
    assert not user_manager.is_superuser


def test_a_superuser_still_grants_privileges(client, make_user):
    root = make_user(name="root", staff=True)
    root.is_superuser = True
    root.save()
    client.force_login(root)
    html = client.get(f"/admin/auth/user/{root.pk}/change/").content.decode()
    assert 'name="is_superuser"' in html


def test_session_writes_need_the_csrf_token(make_user, make_project):
    make_project(images=1)
    worker = make_user(Role.WORKER, "kofi")
    browser = APIClient(enforce_csrf_checks=True)
    assert browser.login(username="kofi", password=PASSWORD)
    refused = browser.post("/api/v1/work/next/", {}, format="json")
    assert refused.status_code == 403
    assert worker.assignments.count() == 0
    # a token client is not a browser: no cookie, no CSRF to forge
    token_client = APIClient(enforce_csrf_checks=True)
    token_client.force_authenticate(worker)
    assert lease(token_client) is not None


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)"],
)
def test_sign_in_never_redirects_off_site(client, make_user, target):
    make_user(Role.WORKER, "thandi")
    response = client.post(
        "/accounts/login/", {"username": "thandi", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_browser_sign_in_is_rate_limited_per_account(client, make_user, settings):
    from django.core.cache import cache

    cache.clear()
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "login": "3/min"},
    }
    make_user(Role.WORKER, "zola")
    guesses = [
        client.post(
            "/accounts/login/",
            {"username": "Zola", "password": f"guess-{i}"},
            REMOTE_ADDR=f"10.0.0.{i}",  # a new address each time: the account limit still holds
        ).status_code
        for i in range(4)
    ]
    assert guesses == [200, 200, 200, 429]
    right = client.post("/accounts/login/", {"username": "zola", "password": PASSWORD})
    assert right.status_code == 429  # even the right password waits out the window
    assert "Too many sign-in attempts" in right.content.decode()
