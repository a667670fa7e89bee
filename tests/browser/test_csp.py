"""The Content-Security-Policy holds on every kind of page, and the pages still work under it."""

import pytest

from tests.browser.helpers import sign_in
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _violations(page) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def test_admin_and_api_docs_work_under_the_policy(new_page, make_user):
    make_user(name="root", staff=True).__class__.objects.filter(username="root").update(
        is_superuser=True
    )
    page = new_page()
    violations = _violations(page)
    response = page.goto("/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert (
        "unsafe-inline"
        not in response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    )
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)  # the UI rendered the schema
    sign_in(page, "root", PASSWORD)
    page.goto("/admin/annotations/project/")
    page.wait_for_selector("#changelist")
    assert violations == []


def test_an_inline_script_is_refused(new_page, live_server):
    page = new_page()
    violations = _violations(page)
    page.goto("/accounts/login/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.pwned = 1'; document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.pwned") is None
    assert violations
