"""Workers' own progress under /api/v1/: their summary and their check tasks' outcomes."""

from django.urls import path

from . import api

urlpatterns = [
    path("me/", api.me, name="me"),
    path("work/feedback/", api.feedback, name="work-feedback"),
]
