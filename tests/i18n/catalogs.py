"""The catalogs as the tests read them: our languages, the two domains, placeholders, and a
pseudo-locale in which every one of our strings shows as ``⟦…⟧`` (see test_worker_language.py)."""

from __future__ import annotations

import re
from pathlib import Path

import polib
from django.conf import settings

from devtools.management.commands.refresh_catalogs import CATALOG_IGNORE

LANGUAGES = ("fr", "pt", "sw", "zu", "ha")
DOMAINS = ("django", "djangojs")
IGNORE = CATALOG_IGNORE  # what `makemessages` leaves out
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|%%|\{\w*\}")
TAG = re.compile(r"(<[^>]+>)")


def locale_dir() -> Path:
    return Path(settings.LOCALE_PATHS[0])


def po_path(language: str, domain: str) -> Path:
    return locale_dir() / language / "LC_MESSAGES" / f"{domain}.po"


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def entry_key(entry: polib.POEntry) -> tuple[str | None, str, str | None]:
    return (entry.msgctxt, entry.msgid, entry.msgid_plural or None)


def pseudo(text: str) -> str:
    """Each run of text between tags wrapped in ⟦…⟧, so a marked string shows wrapped even
    where it holds markup; placeholders and tags are kept as they are."""
    parts = TAG.split(text)
    return "".join(
        part if TAG.fullmatch(part) or not part.strip() else f"⟦{part}⟧" for part in parts
    )


def pseudo_catalogs(source_language: str, target: Path, as_language: str) -> None:
    """Writes ``target/<as_language>/LC_MESSAGES/{django,djangojs}.mo`` with every msgid of
    the source language's catalogs translated by ``pseudo``."""
    folder = target / as_language / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    for domain in DOMAINS:
        po = polib.pofile(str(po_path(source_language, domain)))
        po.metadata["Plural-Forms"] = "nplurals=2; plural=(n != 1);"
        for entry in po:
            if entry.msgid_plural:
                entry.msgstr_plural = {0: pseudo(entry.msgid), 1: pseudo(entry.msgid_plural)}
            else:
                entry.msgstr = pseudo(entry.msgid)
        po.save_as_mofile(str(folder / f"{domain}.mo"))
