"""Account names that cannot pass for one another.

A name is normalised before anything compares it (NFKC, as Django stores it: full-width
``Ｓtaffer`` is ``Staffer``), then reduced to a *skeleton* in the manner of Unicode TR39: every
character replaced by one representative of the characters it can be mistaken for (Cyrillic
``а`` and Latin ``a``; ``l``, ``1`` and ``I``; ``0`` and ``O``), case folded, and the common
multi-letter look-alikes (``rn`` for ``m``) folded too. Two names with one skeleton read the same
to a person, so only the first may exist. The table of look-alikes is Unicode's confusables list
as the maintained ``confusable-homoglyphs`` package ships it.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from confusable_homoglyphs import confusables

_INVISIBLE = "\u200e\u200f"  # the package wraps right-to-left characters in direction marks


@cache
def _tables() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(one character → its group's representative, [(look-alike sequence, letter)])."""
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        while parent.get(c, c) != c:
            c = parent[c]
        return c

    sequences = []
    for char, alikes in confusables.confusables_data.items():
        for alike in alikes:
            other = alike["c"].strip(_INVISIBLE)
            if len(char) == 1 and len(other) == 1:
                a, b = find(char), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            elif len(char) == 1 and char.isascii() and other.isascii() and len(other) > 1:
                sequences.append((other.casefold(), char.casefold()))
    representative = {c: find(c) for c in parent}
    return representative, sorted(set(sequences), key=lambda s: -len(s[0]))


def _mapped(text: str) -> str:
    representative = _tables()[0]
    return "".join(representative.get(c, c) for c in text)


def username_normalise(name: str) -> str:
    """The form a name is stored and compared in: NFKC, surrounding spaces dropped."""
    return unicodedata.normalize("NFKC", name).strip()


def username_skeleton(name: str) -> str:
    """What ``name`` looks like to a reader: equal skeletons, names a person cannot tell apart."""
    text = _mapped(_mapped(username_normalise(name)).casefold())
    for sequence, letter in _tables()[1]:
        text = text.replace(sequence, letter)
    return _mapped(text)
