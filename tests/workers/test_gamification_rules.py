"""Levels, streaks and badges as pure rules: numbers and dates in, facts out."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from workers.gamification import (
    BadgeFacts,
    badges_for,
    level_for,
    streak_current,
    streak_longest,
)

TODAY = date(2026, 11, 26)


def days_ago(*offsets: int) -> list[date]:
    return [TODAY - timedelta(days=n) for n in offsets]


@pytest.mark.parametrize(
    ("points", "level", "next_at"),
    [
        (-40, 1, 100),
        (0, 1, 100),
        (99, 1, 100),
        (100, 2, 300),
        (299, 2, 300),
        (300, 3, 600),
        (999, 4, 1000),
        (1000, 5, 1500),
    ],
)
def test_levels_start_at_0_100_300_600_1000_points(points, level, next_at):
    reached = level_for(points)
    assert (reached.number, reached.next_at) == (level, next_at)
    assert reached.floor <= max(points, 0) < reached.next_at


def test_a_streak_counts_consecutive_days_ending_today():
    assert streak_current(days_ago(0, 1, 2), TODAY) == 3


def test_a_streak_survives_while_today_is_still_under_way():
    assert streak_current(days_ago(1, 2, 3, 4), TODAY) == 4


def test_a_missed_day_breaks_the_streak():
    assert streak_current(days_ago(0, 1, 3, 4, 5), TODAY) == 2
    assert streak_current(days_ago(2, 3), TODAY) == 0
    assert streak_current([], TODAY) == 0


def test_the_longest_streak_is_the_longest_run_anywhere():
    assert streak_longest(days_ago(0, 3, 4, 5, 6, 9, 10)) == 4
    assert streak_longest([]) == 0
    assert streak_longest(days_ago(5, 5, 6)) == 2


def earned(facts: BadgeFacts) -> set[str]:
    return {badge.code for badge in badges_for(facts) if badge.earned}


def test_the_century_badge_needs_100_answers():
    assert "answers_100" not in earned(BadgeFacts(99, 0, 0, 0))
    assert "answers_100" in earned(BadgeFacts(100, 0, 0, 0))


def test_the_week_streak_badge_needs_seven_days_in_a_row_at_some_time():
    assert "streak_7" not in earned(BadgeFacts(0, 6, 0, 0))
    assert "streak_7" in earned(BadgeFacts(0, 7, 0, 0))


@pytest.mark.parametrize(
    ("checks", "correct", "has_badge"),
    [(49, 49, False), (50, 48, True), (50, 47, False), (200, 190, True), (0, 0, False)],
)
def test_the_sharp_eye_badge_needs_95_percent_of_at_least_50_checks(checks, correct, has_badge):
    assert ("sharp_eye" in earned(BadgeFacts(0, 0, checks, correct))) is has_badge


def test_every_badge_is_listed_earned_or_not():
    assert [b.code for b in badges_for(BadgeFacts(0, 0, 0, 0))] == [
        "answers_100",
        "streak_7",
        "sharp_eye",
    ]
