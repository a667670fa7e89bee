"""The workers' server-rendered pages: sign-up, home, instructions, labelling shell, leaderboard
and history — who may see them, what they show, and that user text is escaped."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from accounts.models import Role, WorkerProfile
from tests.helpers import PASSWORD
from tests.workers.helpers import answer, pay

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


@pytest.fixture
def browser(worker_client) -> Client:
    client = Client()
    client.force_login(worker_client.user)
    return client


@pytest.mark.parametrize("path", ["/", "/label/", "/leaderboard/", "/history/"])
def test_pages_need_a_signed_in_account(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_sign_up_makes_a_worker_signs_them_in_and_lands_home(client):
    response = client.post(
        "/signup/", {"username": "thandi", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    user = get_user_model().objects.get(username="thandi")
    assert WorkerProfile.objects.get(user=user).role == Role.WORKER
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"username": "kagiso", "password": PASSWORD, "password_again": PASSWORD}, "taken"),
        ({"username": "neo", "password": "12345678", "password_again": "12345678"}, "too common"),
        ({"username": "neo", "password": PASSWORD, "password_again": PASSWORD + "x"}, "differ"),
        ({"username": "<b>", "password": PASSWORD, "password_again": PASSWORD}, "letters, digits"),
    ],
)
def test_sign_up_refusals_are_shown_on_the_form(client, make_user, form, says):
    make_user(Role.WORKER, "kagiso")
    response = client.post("/signup/", form)
    assert response.status_code == 200
    assert says in response.content.decode()
    assert not get_user_model().objects.filter(username="neo").exists()


def test_home_shows_progress_points_level_streak_and_badges_under_a_strict_csp(
    browser, worker_client, make_project
):
    project = make_project(images=2, name=XSS)
    pay(answer(worker_client, project, {"label": "car"}), 120)
    response = browser.get("/")
    page = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert 'data-stat="points">120<' in page
    assert 'data-stat="level">2<' in page
    assert 'data-stat="answers-today">1<' in page
    assert "Start labelling" in page
    assert "Century" in page
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_accounts_that_do_not_label_are_told_so(requester_client):
    client = Client()
    client.force_login(requester_client.user)
    response = client.get("/label/")
    assert response.status_code == 403
    assert "for workers" in response.content.decode()


def test_instructions_are_escaped_and_only_for_active_projects(browser, make_project):
    project = make_project(images=1, instructions=f"Look closely {XSS}", labels=[XSS, "car"])
    page = browser.get(f"/projects/{project.pk}/").content.decode()
    assert XSS not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    draft = make_project(images=1, active=False)
    assert browser.get(f"/projects/{draft.pk}/").status_code == 404


def test_the_label_page_passes_its_data_as_json_not_code(browser, make_project):
    project = make_project(images=1, name=f"</script>{XSS}")
    page = browser.get(f"/label/?project={project.pk}").content.decode()
    assert '<script id="label-config" type="application/json">' in page
    assert "</script><script>" not in page
    assert browser.get("/label/?project=not-a-uuid").status_code == 404


def test_leaderboard_shows_the_top_and_ones_own_rank(browser, worker_clients, make_project):
    project = make_project(images=1, redundancy_min=3, redundancy_max=3)
    for client, points in zip(worker_clients[:3], (4, 9, 6), strict=False):
        pay(answer(client, project, {"label": "car"}), points)
    page = browser.get("/leaderboard/?period=all").content.decode()
    table = page[page.index("<tbody>") :]
    assert table.index("w1") < table.index("w2") < table.index("w0")
    assert "You are <strong>#3</strong> with 4 points." in page
    assert browser.get("/leaderboard/?period=<x>").status_code == 200


def test_history_lists_ones_own_answers_only(browser, worker_clients, make_project):
    project = make_project(images=2, name="Mine")
    other = make_project(images=1, name="Theirs")
    answer(worker_clients[0], project, {"label": "car"})
    answer(worker_clients[1], other, {"label": "car"})
    page = browser.get("/history/").content.decode()
    assert "Mine" in page
    assert "Theirs" not in page
    assert "pending" in page
    assert browser.get("/history/?page=abc").status_code == 200


def test_sign_up_is_limited_per_address_like_the_api(client, settings):
    cache.clear()  # earlier sign-ups in this process counted against the same address
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "register": "2/hour",
        },
    }
    codes = [
        client.post(
            "/signup/", {"username": f"spam{i}", "password": "x", "password_again": "y"}
        ).status_code
        for i in range(3)
    ]
    assert codes == [200, 200, 429]
