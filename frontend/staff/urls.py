"""Staff pages: project dashboards, review queue, workers view."""

from django.urls import path

from frontend.staff import views as staff_views

urlpatterns = [
    path("", staff_views.index, name="staff-index"),
    path("projects/<uuid:project_id>/", staff_views.dashboard, name="staff-dashboard"),
    path(
        "projects/<uuid:project_id>/live/", staff_views.dashboard_live, name="staff-dashboard-live"
    ),
    path("projects/<uuid:project_id>/review/", staff_views.queue, name="staff-queue"),
    path("projects/<uuid:project_id>/workers/", staff_views.workers, name="staff-workers"),
    path("review/<uuid:task_id>/", staff_views.review, name="staff-review"),
]
