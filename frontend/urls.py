"""Browser pages: the workers' pages (``worker_urls``) and the staff dashboards (``staff_urls``)."""

from django.urls import include, path

app_name = "frontend"

urlpatterns = [
    path("", include("frontend.worker_urls")),
    path("staff/", include("frontend.staff_urls")),
]
