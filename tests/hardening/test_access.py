"""Access rules outside the API tables: the user admin, CSRF on session writes, redirects,
sessions after a password change."""

from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from tests.helpers import PASSWORD, lease

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


def _csrf_token(browser) -> str:
    """A real token, as a page hands it to the browser in the csrftoken cookie."""
    browser.get("/accounts/login/")
    return browser.cookies["csrftoken"].value


def test_a_session_write_from_a_foreign_origin_is_refused_even_with_a_valid_token(
    make_user, make_project
):
    make_project(images=2)
    worker = make_user(Role.WORKER, "kwame")
    browser = APIClient(enforce_csrf_checks=True)
    assert browser.login(username="kwame", password=PASSWORD)
    token = _csrf_token(browser)
    # Django's CSRF Origin check: the token is right, the page that sent it is not ours
    refused = browser.post(
        "/api/v1/work/next/", {}, format="json",
        HTTP_X_CSRFTOKEN=token, HTTP_ORIGIN="https://evil.example",
    )  # fmt: skip
    assert refused.status_code == 403
    assert worker.assignments.count() == 0
    same_site = browser.post(
        "/api/v1/work/next/", {}, format="json",
        HTTP_X_CSRFTOKEN=token, HTTP_ORIGIN="http://testserver",
    )  # fmt: skip
    assert same_site.status_code == 200  # the same token from our own page works
    assert worker.assignments.count() == 1


def test_session_patch_and_delete_need_the_csrf_token(requester, make_project):
    from exports.models import ProjectWebhook

    project = make_project(images=0, name="kept")
    ProjectWebhook.objects.create(project=project, url="https://hooks.example.com/", secret="s")
    browser = APIClient(enforce_csrf_checks=True)
    assert browser.login(username=requester.username, password=PASSWORD)
    # DRF's SessionAuthentication runs Django's CSRF check on every unsafe method
    patch = browser.patch(f"/api/v1/projects/{project.pk}/", {"name": "x"}, format="json")
    delete = browser.delete(f"/api/v1/projects/{project.pk}/webhook/")
    assert (patch.status_code, delete.status_code) == (403, 403)
    project.refresh_from_db()
    assert project.name == "kept"
    assert ProjectWebhook.objects.filter(project=project).exists()
    token = _csrf_token(browser)
    renamed = browser.patch(
        f"/api/v1/projects/{project.pk}/", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert renamed.status_code == 200  # the same request with the token goes through


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example"])
def test_sign_out_never_redirects_off_site(client, make_user, target):
    worker = make_user(Role.WORKER, "sipho")
    client.force_login(worker)
    # Django's LogoutView keeps `next` only if url_has_allowed_host_and_scheme passes
    response = client.post("/accounts/logout/?" + urlencode({"next": target}))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302  # signed out all the same


def test_sign_up_ignores_next_and_never_redirects_off_site(client):
    off_site = "/signup/?" + urlencode({"next": "https://evil.example"})
    assert client.get(off_site).status_code == 200
    # the sign-up view always sends a new account home; it reads no `next`
    form = {"username": "naledi", "password": PASSWORD, "password_again": PASSWORD,
            "next": "https://evil.example"}  # fmt: skip
    created = client.post(off_site, form, REMOTE_ADDR="10.9.9.9")
    assert (created.status_code, created["Location"]) == (302, "/")
    again = client.get(off_site)  # now signed in: sent home, not to `next`
    assert (again.status_code, again["Location"]) == (302, "/")


def test_a_password_change_signs_out_the_accounts_other_browsers(make_user):
    make_user(Role.WORKER, "lindiwe")
    phone, laptop = Client(), Client()
    assert phone.login(username="lindiwe", password=PASSWORD)
    assert laptop.login(username="lindiwe", password=PASSWORD)
    changed = laptop.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "new-horse-battery-43",
         "new_password2": "new-horse-battery-43"},
    )  # fmt: skip
    assert changed.status_code == 302
    # Django's session auth hash: a session made under the old password no longer loads its user
    stale = phone.get("/")
    assert (stale.status_code, stale["Location"]) == (302, "/accounts/login/?next=/")
    assert laptop.get("/").status_code == 200  # update_session_auth_hash kept the changer in
