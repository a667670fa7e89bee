"""Worker-facing words for values other apps keep in English: project kinds and badges.

The apps own the values (``ProjectKind``, ``workers.gamification``); the pages show them in the
worker's language, looked up here by their stable code. An unknown code shows as it is.
"""

from __future__ import annotations

from dataclasses import replace

from django.utils.translation import gettext, gettext_lazy, gettext_noop

from workers.gamification import (
    ANSWERS_BADGE,
    GOLD_BADGE_ACCURACY,
    GOLD_BADGE_MIN,
    STREAK_BADGE,
    Badge,
)

# The sign-in form's labels are Django's own msgids (the User model's verbose names); Django has
# no isiZulu or Hausa catalog, so ours carries them (our locale/ comes first).
DJANGO_AUTH_WORDS = (gettext_noop("username"), gettext_noop("password"))

KIND_NAMES = {
    "classification": gettext_lazy("classification"),
    "bbox": gettext_lazy("boxes"),
    "polygon": gettext_lazy("polygons"),
    "moderation": gettext_lazy("moderation"),
}


def kind_name(kind: str) -> str:
    return str(KIND_NAMES.get(kind, kind))


def _badge_texts(code: str) -> tuple[str, str] | None:
    if code == "answers_100":
        return gettext("Century"), gettext("Submit %(count)s answers.") % {"count": ANSWERS_BADGE}
    if code == "streak_7":
        description = gettext("Meet your daily target %(days)s days in a row.")
        return gettext("Week streak"), description % {"days": STREAK_BADGE}
    if code == "sharp_eye":
        description = gettext("Get %(share)s%% of at least %(count)s check tasks right.")
        share = round(GOLD_BADGE_ACCURACY * 100)
        return gettext("Sharp eye"), description % {"share": share, "count": GOLD_BADGE_MIN}
    return None


def badge_translated(badge: Badge) -> Badge:
    """The badge with its name and description in the active language."""
    texts = _badge_texts(badge.code)
    if texts is None:
        return badge
    return replace(badge, name=texts[0], description=texts[1])
