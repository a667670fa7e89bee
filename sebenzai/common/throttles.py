"""Rate limits per user and per route. Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
(environment variables THROTTLE_*); they key on the user id, so a forged X-Forwarded-For does not
dodge them, and on the client address only for anonymous callers (NUM_PROXIES says how many
proxies to trust)."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle, UserRateThrottle


class UploadThrottle(UserRateThrottle):
    """Each upload decodes and stores many images."""

    scope = "upload"


class ExportCreateThrottle(UserRateThrottle):
    """Each export reads a whole project and writes a zip."""

    scope = "export"


class WorkThrottle(UserRateThrottle):
    """Asking for the next task: a person needs about one a second, a scraper many more."""

    scope = "work"


class SubmitThrottle(UserRateThrottle):
    """Submitting and skipping: one budget for both, so neither is a way round the other."""

    scope = "submit"


class AccountLoginThrottle(BaseThrottle):
    """Log-in attempts per account name, counted together with the browser's sign-in form, so
    guesses spread over many addresses, or over the API and the form, share one budget."""

    def allow_request(self, request, view) -> bool:
        data = request.data if hasattr(request.data, "get") else {}
        return not attempts_over_limit("login", [login_account_key(data.get("username"))])

    def wait(self) -> float:
        rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"]
        return SimpleRateThrottle.parse_rate(None, rate)[1]


def login_account_key(username: object) -> str:
    """The cache key counting log-in attempts on one account, however its name is spelt. Hashed:
    a name is any text (spaces, control characters), and cache keys must not be."""
    name = str(username or "").strip().lower()[:150]
    return f"signin:user:{hashlib.sha256(name.encode()).hexdigest()}"


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
