"""Staff pages: project dashboards, review queue, workers view."""

from django.urls import path

from frontend import staff_views

urlpatterns = [
    path("", staff_views.index, name="staff-index"),
]
