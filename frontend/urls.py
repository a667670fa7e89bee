"""Browser pages: the workers' pages (``worker/urls.py``) and the staff dashboards (``staff/urls.py``)."""

from django.urls import include, path

app_name = "frontend"

urlpatterns = [
    path("", include("frontend.worker.urls")),
    path("staff/", include("frontend.staff.urls")),
]
