"""Rate limits per user and per route. Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
(environment variables THROTTLE_*); they key on the user id, so a forged X-Forwarded-For does not
dodge them, and on the client address only for anonymous callers (NUM_PROXIES says how many
proxies to trust)."""

import hashlib
import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
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


class SignInThrottle(BaseThrottle):
    """Every password form shares one budget (``signin_keys``): the API's token endpoint here,
    the browser's sign-in form through ``signin_keys`` too."""

    def allow_request(self, request, view) -> bool:
        data = request.data if hasattr(request.data, "get") else {}
        return not attempts_over_limit("login", signin_keys(request, data.get("username")))

    def wait(self) -> float:
        rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"]
        return SimpleRateThrottle.parse_rate(None, rate)[1]


def login_account_key(username: object) -> str:
    """The cache key counting log-in attempts on one account, however its name is spelt. Hashed:
    a name is any text (spaces, control characters), and cache keys must not be."""
    return f"signin:user:{_name_digest(username)}"


def _name_digest(username: object) -> str:
    name = str(username or "").strip().lower()[:150]
    return hashlib.sha256(name.encode()).hexdigest()


def signin_keys(request: HttpRequest, username: object) -> list[str]:
    """The counters one password attempt counts against. A client that signed in to this account
    before (a device cookie, see ``device_cookie_set``) counts only against its own device: so a
    stranger guessing at an account, from any number of addresses, cannot lock its owner out.
    Any other client counts per address (NUM_PROXIES decides which) and per account, so neither
    one guessing machine nor a botnet aimed at one account gets far."""
    device = request.COOKIES.get(DEVICE_COOKIE, "")
    if device and _device_account(device) == _name_digest(username):
        return [f"signin:device:{hashlib.sha256(device.encode()).hexdigest()}"]
    address = BaseThrottle().get_ident(request)
    return [f"signin:addr:{address}", login_account_key(username)]


def signup_keys(request: HttpRequest) -> list[str]:
    """The counter a sign-up counts against: the client's address as every throttle sees it
    (behind the proxy, from X-Forwarded-For as NUM_PROXIES says), never the proxy's."""
    return [f"signup:addr:{BaseThrottle().get_ident(request)}"]


DEVICE_COOKIE = "sebenzai_device"
_DEVICE_SALT = "sebenzai.signin.device"
_DEVICE_MAX_AGE = 365 * 24 * 3600


def _device_account(cookie: str) -> str | None:
    try:
        return signing.loads(cookie, salt=_DEVICE_SALT, max_age=_DEVICE_MAX_AGE)["account"]
    except (signing.BadSignature, KeyError, TypeError):
        return None


def device_cookie_set(response: HttpResponse, username: str) -> None:
    """After a right password: remember this client as one the account's owner uses. Signed, it
    names the account by a hash only, and it is no credential (the password is still asked)."""
    value = signing.dumps(
        {"account": _name_digest(username), "n": secrets.token_hex(8)}, salt=_DEVICE_SALT
    )
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=_DEVICE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


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
