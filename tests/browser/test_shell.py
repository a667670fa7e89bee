"""The page shell: sign in through the browser, reach the home page, sign out."""

from accounts.models import Role
from tests.browser.helpers import sign_in
from tests.helpers import PASSWORD


def test_sign_in_reaches_home_and_sign_out_leaves(new_page, make_user):
    make_user(Role.WORKER, "amara")
    page = new_page()
    page.goto("/")
    assert "/accounts/login/" in page.url
    sign_in(page, "amara", PASSWORD)
    assert page.locator(".who").inner_text() == "amara"
    page.click(".signout button")
    page.wait_for_url("**/accounts/login/")


def test_wrong_password_stays_on_sign_in(new_page, make_user):
    make_user(Role.WORKER, "kofi")
    page = new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "kofi")
    page.fill("input[name=password]", "not-the-password")
    sign_in_form = page.locator("form:has(input[name=password])")
    sign_in_form.locator("button[type=submit]").click()
    assert "/accounts/login/" in page.url
    assert sign_in_form.inner_text().lower().count("correct") >= 1
