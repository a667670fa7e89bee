"""Sign-up through the browser is limited like the API's registration (the "register" rate, per
client address), so the form is no way round that limit."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.throttling import SimpleRateThrottle


def signup_over_limit(request: HttpRequest) -> bool:
    """Count this attempt for the client's address; True once over the register rate."""
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["register"]
    allowed, window = SimpleRateThrottle.parse_rate(None, rate)
    key = f"signup:addr:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key) > allowed
    except ValueError:  # expired between add and incr: this attempt opens a new window
        cache.set(key, 1, timeout=window)
        return False
