"""The browser's sign-in, rate-limited like the API's token endpoint: per client address and per
account name, so neither one guessing machine nor a botnet aimed at one account gets far."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from rest_framework.throttling import SimpleRateThrottle


def _over_limit(keys: list[str]) -> bool:
    """Count one attempt under each key; say whether any is over the login rate."""
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"]
    allowed, window = SimpleRateThrottle.parse_rate(None, rate)
    over = False
    for key in keys:
        cache.add(key, 0, timeout=window)
        try:
            over |= cache.incr(key) > allowed
        except ValueError:  # expired between add and incr: this attempt starts a new window
            cache.set(key, 1, timeout=window)
    return over


class ThrottledLoginView(LoginView):
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        username = str(request.POST.get("username", "")).strip().lower()[:150]
        address = request.META.get("REMOTE_ADDR", "")
        if _over_limit([f"signin:addr:{address}", f"signin:user:{username}"]):
            form = self.get_form()
            form.add_error(None, "Too many sign-in attempts. Wait a minute and try again.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)
