"""Workers' pages: sign up/in/out, home, labelling, leaderboard, history, instructions."""

from django.urls import path

from frontend import worker_views

urlpatterns = [
    path("", worker_views.home, name="home"),
]
