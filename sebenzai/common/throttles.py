"""Rate limits per user and per route. Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
(environment variables THROTTLE_*); they key on the user id, so a forged X-Forwarded-For does not
dodge them, and on the client address only for anonymous callers (NUM_PROXIES says how many
proxies to trust)."""

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


class UploadThrottle(UserRateThrottle):
    """Each upload decodes and stores many images."""

    scope = "upload"


class ExportCreateThrottle(UserRateThrottle):
    """Each export reads a whole project and writes a zip."""

    scope = "export"


def attempts_over_limit(scope: str, keys: list[str]) -> bool:
    """For the views outside DRF (the browser's sign-in and sign-up forms): count one attempt
    under each key at the ``scope`` rate; say whether any key is now over it."""
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]
    allowed, window = SimpleRateThrottle.parse_rate(None, rate)
    over = False
    for key in keys:
        cache.add(key, 0, timeout=window)
        try:
            over |= cache.incr(key) > allowed
        except ValueError:  # expired between add and incr: this attempt opens a new window
            cache.set(key, 1, timeout=window)
    return over
