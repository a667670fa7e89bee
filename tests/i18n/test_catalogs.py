"""The catalogs are complete, consistent and current: every msgid translated in every language
(no fuzzy entry, the same placeholders), the .mo files compiled from the .po files as committed,
and the .po files holding exactly the strings the sources mark today."""

from __future__ import annotations

import gettext
import os
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

from tests.i18n.catalogs import (
    DOMAINS,
    IGNORE,
    LANGUAGES,
    entry_key,
    placeholders,
    po_path,
)

CATALOGS = [(language, domain) for language in LANGUAGES for domain in DOMAINS]
SOURCE_DIRS = ("accounts", "annotations", "consensus", "workers", "predictions", "exports")
SOURCE_DIRS += ("frontend", "sebenzai", "devtools")


@pytest.mark.parametrize(("language", "domain"), CATALOGS)
def test_every_string_is_translated_with_the_same_placeholders(language, domain):
    po = polib.pofile(str(po_path(language, domain)))
    assert len(po) > 0
    problems = []
    for entry in po:
        forms = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if entry.fuzzy or entry.obsolete or not all(form.strip() for form in forms):
            problems.append(f"untranslated or fuzzy: {entry.msgid!r}")
            continue
        sources = [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]
        wanted = placeholders(sources[-1])
        for form in forms:
            if placeholders(form) != wanted and placeholders(form) != placeholders(sources[0]):
                problems.append(f"placeholders differ: {entry.msgid!r} -> {form!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("language", "domain"), CATALOGS)
def test_the_compiled_catalog_matches_the_po_file(language, domain):
    path = po_path(language, domain)
    with path.with_suffix(".mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    expected: dict = {}
    for entry in polib.pofile(str(path)).translated_entries():
        msgid = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural:
            expected.update({(msgid, int(n)): s for n, s in entry.msgstr_plural.items()})
        else:
            expected[msgid] = entry.msgstr
    compiled = {key: value for key, value in compiled.items() if key != ""}
    assert compiled == expected, f"{path.with_suffix('.mo')} is stale: run compilemessages"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
@pytest.mark.parametrize("domain", DOMAINS)
def test_the_catalogs_hold_exactly_the_strings_the_sources_mark(domain, tmp_path, settings):
    # given the committed catalogs, and a copy of the sources with an empty locale folder
    committed = {
        language: {entry_key(e) for e in polib.pofile(str(po_path(language, domain)))}
        for language in LANGUAGES
    }
    root = Path(settings.BASE_DIR)
    for name in SOURCE_DIRS:
        shutil.copytree(root / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    (tmp_path / "locale").mkdir()
    # when makemessages extracts them afresh
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        call_command(
            "makemessages", locale=["fr"], domain=domain, ignore_patterns=IGNORE, verbosity=0
        )
    finally:
        os.chdir(cwd)
    # then the committed catalogs have the same msgids, no more and no fewer
    fresh = {
        entry_key(e) for e in polib.pofile(str(tmp_path / f"locale/fr/LC_MESSAGES/{domain}.po"))
    }
    for language, keys in committed.items():
        assert keys == fresh, (
            f"{language}/{domain}.po is out of date: new {sorted(map(str, fresh - keys))}, "
            f"gone {sorted(map(str, keys - fresh))}; run makemessages (README, Languages)"
        )


def test_every_language_has_its_own_name_for_the_switch():
    from django.utils.translation import get_language_info

    names = {code: get_language_info(code)["name_local"] for code, _ in settings.LANGUAGES}
    assert names["zu"] == "isiZulu"
    assert names["ha"] == "Hausa"
    assert names["fr"] == "français"


def test_the_page_catalog_holds_our_javascript_strings_only():
    from frontend.worker.i18n import js_catalog

    js_catalog.cache_clear()
    french = js_catalog("fr")
    assert french["plural"] == "zero-one"  # French counts 0 as singular
    assert french["catalog"]["Safe"] == "Sans risque"
    msgids = {e.msgid for e in polib.pofile(str(po_path("fr", "djangojs")))}
    assert set(french["catalog"]) == msgids  # nothing of the admin's own djangojs catalog
    assert js_catalog("en") == {"catalog": {}, "plural": "one"}
