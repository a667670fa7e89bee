"""Bad query parameters at GET /api/v1/projects/{id}/results/, refused naming the parameter."""

from __future__ import annotations

import pytest

from tests.annotations.bad_input.contract import assert_refused

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("state=bogus", "state", "invalid_choice"),
        ("state=", "state", "invalid_choice"),
        ("state=OPEN", "state", "invalid_choice"),
        ("owner__password__startswith=pbkdf2", "owner__password__startswith", "unknown_filter"),
        ("ordering=-confidence", "ordering", "unknown_filter"),
        ("search=taxi", "search", "unknown_filter"),
        ("is_gold=true", "is_gold", "unknown_filter"),
        ("cursor=not-a-cursor", "cursor", "invalid_cursor"),
        ("format=xml", "format", None),
    ],
)
def test_results_with_a_bad_query_parameter_are_refused_naming_it(
    requester_client, project, query, field, code
):
    response = requester_client.get(f"/api/v1/projects/{project.pk}/results/?{query}")
    assert_refused(response, 400, field, code)
