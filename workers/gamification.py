"""Levels, streaks and badges: pure rules over numbers and dates, so tests need no database.

The numbers come from ``workers.selectors`` (answers per day, the points ledger); nothing here is
stored, so whatever the ledger says, the level and badges say the same after any retry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# Level n starts at 50·n·(n−1) points: 0, 100, 300, 600, 1000, 1500, … — each level a little
# longer than the last, so early levels come quickly and later ones still mean something.
LEVEL_STEP = 50

ANSWERS_BADGE = 100
STREAK_BADGE = 7
GOLD_BADGE_MIN = 50
GOLD_BADGE_ACCURACY = 0.95


@dataclass(frozen=True)
class Level:
    number: int
    floor: int  # points at which this level starts
    next_at: int  # points at which the next one starts


def level_start(number: int) -> int:
    return LEVEL_STEP * number * (number - 1)


def level_for(points: int) -> Level:
    """The level a balance of ``points`` has reached (a negative balance is level 1)."""
    number = 1
    while level_start(number + 1) <= points:
        number += 1
    return Level(number, level_start(number), level_start(number + 1))


def streak_current(days: Iterable[date], today: date) -> int:
    """Consecutive days meeting the target, ending today — or yesterday while today is still
    under way: a streak is only lost once a day ends without reaching the target."""
    met = set(days)
    day = today if today in met else today - timedelta(days=1)
    length = 0
    while day in met:
        length += 1
        day -= timedelta(days=1)
    return length


def streak_longest(days: Iterable[date]) -> int:
    """The longest run of consecutive days in ``days``."""
    met = sorted(set(days))
    longest = run = 0
    previous: date | None = None
    for day in met:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    return longest


@dataclass(frozen=True)
class Badge:
    code: str
    name: str
    description: str
    earned: bool


@dataclass(frozen=True)
class BadgeFacts:
    answers: int
    longest_streak: int
    checks: int  # known-answer tasks graded and past their reveal time
    checks_correct: int


def badges_for(facts: BadgeFacts) -> list[Badge]:
    """Every badge, earned or not, in the order the home page shows them."""
    accuracy = facts.checks_correct / facts.checks if facts.checks else 0.0
    return [
        Badge(
            "answers_100",
            "Century",
            f"Submit {ANSWERS_BADGE} answers.",
            facts.answers >= ANSWERS_BADGE,
        ),
        Badge(
            "streak_7",
            "Week streak",
            f"Meet your daily target {STREAK_BADGE} days in a row.",
            facts.longest_streak >= STREAK_BADGE,
        ),
        Badge(
            "sharp_eye",
            "Sharp eye",
            f"Get {GOLD_BADGE_ACCURACY:.0%} of at least {GOLD_BADGE_MIN} check tasks right.",
            facts.checks >= GOLD_BADGE_MIN and accuracy >= GOLD_BADGE_ACCURACY,
        ),
    ]
