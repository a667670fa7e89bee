"""The account API under /api/v1/auth/: a token for a password, and workers' sign-up."""

from django.urls import path

from . import api

urlpatterns = [
    path("auth/token/", api.TokenView.as_view(), name="auth-token"),
    path("auth/register/", api.register, name="auth-register"),
]
