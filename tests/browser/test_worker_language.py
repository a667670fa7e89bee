"""The worker's own language, in Chromium at phone size with touch: the browser's language for a
fresh visitor, the switch (remembered across reloads and pages), JavaScript messages from the
catalog embedded in the page, a project's own words per language with the original as fallback,
and a pseudo-locale in which every worker-facing string must show wrapped: a string that is
not marked for translation, in a template or in a worker JS module, shows bare and fails."""

from __future__ import annotations

import re
import time

import pytest

from annotations.models import Annotation
from frontend.worker.i18n import js_catalog
from tests.browser.worker_helpers import (
    open_label_page,
    outside_viewport,
    project_with_images,
    sign_up,
    stored_answer,
    touch_tap,
)
from tests.i18n.catalogs import pseudo_catalogs

PHONE = {"viewport": (360, 640), "touch": True}
FRENCH = {
    "instructions": "Touchez le véhicule.",
    "labels": {"car": "voiture", "taxi": "taxi jaune"},
}


@pytest.fixture(autouse=True)
def _fresh_js_catalogs():
    js_catalog.cache_clear()  # a test may swap the locale folder (the pseudo-locale)
    yield
    js_catalog.cache_clear()


def switch_language(page, code: str) -> None:
    page.locator("#language-select").scroll_into_view_if_needed()
    page.select_option("#language-select", code)
    touch_tap(page, "#language-submit")
    page.wait_for_function(f"() => document.documentElement.lang === '{code}'")


def test_the_switch_changes_the_language_and_is_remembered(settled_new_page):
    # given a worker on a phone, in English (the browser's default here)
    page = settled_new_page(**PHONE)
    sign_up(page, "amara")
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("nav a[href='/']").inner_text() == "Home"
    # when they pick Français in the switch, which names each language in its own words
    options = page.locator("#language-select option").all_inner_texts()
    assert {"English", "français", "Português", "Kiswahili", "isiZulu", "Hausa"} <= set(options)
    switch_language(page, "fr")
    # then the page speaks French, after a reload and on another page too
    assert page.locator("nav a[href='/']").inner_text() == "Accueil"
    cookie = next(c for c in page.context.cookies() if c["name"] == "django_language")
    assert cookie["value"] == "fr"
    assert cookie["expires"] > time.time() + 300 * 24 * 3600  # kept when the browser closes
    page.reload()
    assert page.get_attribute("html", "lang") == "fr"
    other = page.context.new_page()
    other.goto("/leaderboard/")
    assert other.get_attribute("html", "lang") == "fr"
    assert other.locator("h1").inner_text() == "Classement"
    other.close()
    # and back to isiZulu the same way
    switch_language(page, "zu")
    assert page.locator("nav a[href='/']").inner_text() == "Ekhaya"


@pytest.mark.parametrize(
    ("accept_language", "lang", "heading"),
    [
        ("sw-KE,sw;q=0.9,en;q=0.5", "sw", "Ingia"),
        ("pt-BR,pt;q=0.9", "pt", "Entrar"),
        ("de", "en", "Sign in"),
    ],
)
def test_the_browsers_language_is_used_for_a_fresh_visitor(
    settled_new_page, accept_language, lang, heading
):
    page = settled_new_page(**PHONE)
    page.context.set_extra_http_headers({"Accept-Language": accept_language})
    page.goto("/accounts/login/")
    assert page.get_attribute("html", "lang") == lang
    assert page.locator("h1").inner_text() == heading


def test_a_javascript_message_shows_in_the_workers_language(settled_new_page, requester):
    # given a French-speaking worker on a classification task
    project = project_with_images(requester, "classification")
    page = settled_new_page(**PHONE)
    page.context.set_extra_http_headers({"Accept-Language": "fr"})
    sign_up(page, "celine")
    open_label_page(page, project)
    assert page.locator("#skip").inner_text() == "Passer"
    # when they press Submit before choosing a label
    touch_tap(page, "#submit")
    # then choice.js's message comes from the French catalog
    page.wait_for_function("() => document.getElementById('message').textContent.length > 0")
    assert (
        page.inner_text("#message") == "Choisissez une étiquette (touchez-la ou tapez son numéro)."
    )


def test_a_projects_words_show_in_its_language_and_fall_back_elsewhere(settled_new_page, requester):
    # given a project with French instructions and label titles
    project = project_with_images(
        requester, "classification", images=2, translations={"fr": FRENCH}
    )
    page = settled_new_page(**PHONE)
    page.context.set_extra_http_headers({"Accept-Language": "fr"})
    sign_up(page, "dominique")
    # when a French-speaking worker opens the task
    open_label_page(page, project)
    # then the instructions and label titles are the French ones
    assert page.locator("#instructions-text").text_content() == "Touchez le véhicule."
    titles = [t.strip() for t in page.locator("#tools button.choice").all_inner_texts()]
    assert titles == ["1 voiture", "2 taxi jaune", "3 truck"]  # truck has no French title
    # and the answer still names the label, not its title
    touch_tap(page, "#tools button.choice >> nth=0")
    touch_tap(page, "#submit")
    assert stored_answer(project).payload == {"label": "car"}
    # when the worker switches to Swahili, which the project has no words for
    page.wait_for_selector("#labeller[data-state=ready]")
    page.goto(f"/projects/{project.pk}/")
    switch_language(page, "sw")
    # then they read the original
    assert "Label every classification you see." in page.inner_text(".instructions")
    assert page.locator(".labels-list li").all_inner_texts() == ["car", "taxi", "truck"]
    assert Annotation.objects.filter(task__project=project).count() == 1


@pytest.mark.parametrize("language", ["fr", "pt", "sw", "zu", "ha"])
def test_the_label_page_fits_a_phone_in_every_language(settled_new_page, requester, language):
    # given a worker reading a box task in a language whose words run longer than English
    project = project_with_images(requester, "bbox")
    page = settled_new_page(**PHONE)
    page.context.set_extra_http_headers({"Accept-Language": language})
    sign_up(page, f"fit_{language}")
    open_label_page(page, project)
    assert page.get_attribute("html", "lang") == language
    assert page.inner_text("#skip") != "Skip"
    # then nothing sticks out sideways and every action button is on screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not outside_viewport(page, ".actionbar button:not([hidden]), .topbar a")


# --- every worker-facing string marked --------------------------------------------------------

WRAPPED = re.compile(r"⟦[^⟧]*⟧")
LETTER = re.compile(r"[^\W\d_]")
TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest("script, style, template, #language-select")) continue;
    if (node.textContent.trim()) out.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder]")) {
    for (const name of ["aria-label", "title", "placeholder"]) {
      if (el.hasAttribute(name) && !el.closest("head")) out.push(el.getAttribute(name));
    }
  }
  out.push(document.title);
  return out;
}"""


def bare_texts(page, data: list[str]) -> list[str]:
    """The texts of the page (shown or hidden) with words outside ⟦…⟧ that are not data."""
    bare = []
    for text in page.evaluate(TEXTS):
        rest = WRAPPED.sub("", text)
        for value in [*data, "Sebenzai"]:
            rest = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", "", rest)
        if LETTER.search(rest):
            bare.append(text)
    return bare


def test_every_worker_facing_string_is_marked(settled_new_page, requester, tmp_path, settings):
    # given a pseudo-locale standing in for Hausa: each of our strings shows as ⟦…⟧
    pseudo_catalogs("fr", tmp_path / "locale", as_language="ha")
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    projects = {
        kind: project_with_images(requester, kind, name=f"{kind} street")
        for kind in ("classification", "moderation", "bbox", "polygon")
    }
    data = ["pseudo_w", "#", "·", *(p.name for p in projects.values())]
    data += [label["name"] for p in projects.values() for label in p.labels]
    data += [p.instructions for p in projects.values()]
    page = settled_new_page(**PHONE)
    page.context.set_extra_http_headers({"Accept-Language": "ha"})
    # when a fresh visitor and then a worker go through every worker page
    found = {}
    for url in ("/accounts/login/", "/signup/"):
        page.goto(url)
        assert page.get_attribute("html", "lang") == "ha"
        found[url] = bare_texts(page, data)
    sign_up(page, "pseudo_w")
    bbox = projects["bbox"]
    for url in ("/", "/history/", "/leaderboard/", f"/projects/{bbox.pk}/"):
        page.goto(url)
        found[url] = bare_texts(page, data)
    for kind, project in projects.items():
        open_label_page(page, project)
        touch_tap(page, "#submit")  # nothing chosen or drawn: the tool's message shows
        page.wait_for_function("() => document.getElementById('message').textContent.length > 0")
        found[f"label {kind}"] = bare_texts(page, data)
    # and, with one answer given, the history's table and the home page's figures
    open_label_page(page, projects["classification"])
    touch_tap(page, "#tools button.choice >> nth=0")
    touch_tap(page, "#submit")
    stored_answer(projects["classification"])
    page.wait_for_selector("#labeller[data-state=empty]")
    for url in ("/history/", "/"):
        page.goto(url)
        found[f"{url} after an answer"] = bare_texts(page, data)
    assert page.locator("#today .big").inner_text().startswith("1")
    # then no page shows a word that is not wrapped
    assert not {where: texts for where, texts in found.items() if texts}
