"""Schema fuzzing: schemathesis generates requests from the served OpenAPI schema and sends them
to a live server on 127.0.0.1, as a requester, a worker and staff. No answer may be a 5xx, and every
4xx is JSON of the one error shape, ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token

from accounts.models import Role

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def api_schema(live_server, transactional_db):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    return schema


@pytest.fixture
def tokens(make_user, make_project, requester) -> dict[str, str]:
    make_project(images=2)
    worker = make_user(Role.WORKER, "fuzz-worker")
    staff = make_user(Role.REQUESTER, "fuzz-admin", staff=True)
    return {
        "requester": Token.objects.get_or_create(user=requester)[0].key,
        "worker": Token.objects.get_or_create(user=worker)[0].key,
        "staff": Token.objects.get_or_create(user=staff)[0].key,
    }


def _check(response) -> None:
    where = f"{response.request.method} {response.request.url} -> {response.status_code}"
    assert response.status_code < 500, (where, response.text[:300])
    if response.status_code >= 400:
        # schemathesis keeps headers as lists under lower-case names
        content_type = " ".join(response.headers.get("content-type", []))
        assert content_type.startswith("application/json"), (where, content_type)
        error = response.json()["error"]
        assert {"code", "message"} <= set(error), error


FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck)
)


def _operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("role", ["requester", "worker", "staff"])
def test_no_server_error_and_one_error_shape(api_schema, tokens, role):
    headers = {"Authorization": f"Token {tokens[role]}"}
    operations = _operations(api_schema)
    assert len(operations) >= 15  # the whole API, not an empty schema
    statuses: list[int] = []
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def fuzz(case):
            response = case.call(headers=headers, timeout=10)
            statuses.append(response.status_code)
            _check(response)

        fuzz()
    # enough cases ran, and some got past validation and permissions
    assert len(statuses) >= 5 * len(operations)
    assert any(200 <= status < 300 for status in statuses)
    print(f"{role}: {len(statuses)} cases over {len(operations)} operations")
