"""Fixtures of the gamification tests; the helpers they call are in helpers.py."""

from __future__ import annotations

from datetime import timedelta

import pytest


@pytest.fixture
def gold_delay(settings):
    """Gold pay (and check feedback) delayed by exactly one hour, for predictable tests."""
    settings.SEBENZAI = {**settings.SEBENZAI, "GOLD_PAY_DELAY_SECONDS": (3600, 3600)}
    return timedelta(hours=1)
