"""With DEBUG on (the demo), an API client still gets JSON errors, never Django's debug pages."""

import pytest
from django.test import Client
from django.urls import path

from accounts.models import Role
from tests.helpers import PASSWORD


def _crash(request):
    raise RuntimeError("boom")


urlpatterns = [path("api/v1/crash/", _crash)]


@pytest.mark.django_db
def test_a_mistyped_api_url_is_a_json_404_with_debug_on(settings, make_user):
    settings.DEBUG = True
    make_user(Role.REQUESTER, "rita")
    client = Client()
    client.login(username="rita", password=PASSWORD)
    response = client.get("/api/v1/projectz/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_a_crash_on_an_api_route_is_a_json_500_with_debug_on(settings):
    settings.DEBUG = True
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/api/v1/crash/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"


def test_pages_keep_the_debug_page_for_developers(settings):
    settings.DEBUG = True
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
