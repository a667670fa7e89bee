"""The browser's sign-in, rate-limited like the API's token endpoint (one budget: see
``throttles.signin_keys``), and the admin's log-in sent to it so no password form goes unlimited."""

from __future__ import annotations

from django.contrib.auth.views import LoginView, redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext

from .throttles import attempts_over_limit, device_cookie_set, signin_keys


class ThrottledLoginView(LoginView):
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        keys = signin_keys(request, request.POST.get("username"))
        if attempts_over_limit("login", keys):
            form = self.get_form()
            form.add_error(None, gettext("Too many sign-in attempts. Wait a minute and try again."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        device_cookie_set(response, form.get_user().get_username())
        return response


def admin_login_redirect(request: HttpRequest) -> HttpResponse:
    """The admin site's own log-in form has no rate limit: send staff to the one that has."""
    target = request.GET.get("next", "/admin/")
    return redirect_to_login(target if url_has_allowed_host_and_scheme(target, None) else "/admin/")
