"""The browser's sign-in, rate-limited like the API's token endpoint: per client address and per
account name, so neither one guessing machine nor a botnet aimed at one account gets far."""

from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse

from .throttles import attempts_over_limit, login_account_key


class ThrottledLoginView(LoginView):
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        address = request.META.get("REMOTE_ADDR", "")
        keys = [f"signin:addr:{address}", login_account_key(request.POST.get("username"))]
        if attempts_over_limit("login", keys):
            form = self.get_form()
            form.add_error(None, "Too many sign-in attempts. Wait a minute and try again.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)
