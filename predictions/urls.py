"""The predictions API under /api/v1/projects/<id>/predictions/."""

from django.urls import path

from . import api

urlpatterns = [
    path(
        "projects/<uuid:project_id>/predictions/",
        api.ProjectPredictionsView.as_view(),
        name="project-predictions",
    ),
]
