"""The JavaScript catalog of the active language, embedded in each page rather than fetched.

The workers' pages run under a strict CSP (no inline script, no eval), so the catalog travels as
JSON in a ``json_script`` element that ``shared/i18n.js`` reads; no extra request, and nothing for
the service worker to cache stale (it never caches pages). Only our own ``locale/`` folder is read:
Django's admin ships a djangojs catalog the workers never need.
"""

from __future__ import annotations

import re
from functools import cache

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation.trans_real import DjangoTranslation
from django.views.i18n import JavaScriptCatalog

# shared/i18n.js knows these two rules (it may not eval an expression under the CSP).
PLURAL_RULES = {"(n != 1)": "one", "n != 1": "one", "(n > 1)": "zero-one", "n > 1": "zero-one"}


@cache
def js_catalog(language: str) -> dict:
    """``{"catalog": {msgid: msgstr or [plural forms]}, "plural": rule}`` for one language;
    empty for English, whose msgids are the text. Cached per process: catalogs change on deploy."""
    if language == "en":
        return {"catalog": {}, "plural": "one"}
    view = JavaScriptCatalog()
    localedirs = [str(path) for path in settings.LOCALE_PATHS]
    view.translation = DjangoTranslation(language, domain="djangojs", localedirs=localedirs)
    plural = re.sub(r"\s+", " ", view.get_plural() or "n != 1").strip()
    return {"catalog": view.get_catalog(), "plural": PLURAL_RULES.get(plural, "one")}


def js_catalog_context(request: HttpRequest) -> dict:
    """Template context processor: ``{{ js_catalog|json_script:"i18n-catalog" }}``. A callable,
    so pages that do not embed it (the staff's) never build it."""
    return {"js_catalog": lambda: js_catalog(get_language() or settings.LANGUAGE_CODE)}
