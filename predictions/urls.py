"""The predictions API under /api/v1/projects/<id>/: predictions/ and models/ (ONNX uploads)."""

from django.urls import path

from . import api, api_models

urlpatterns = [
    path(
        "projects/<uuid:project_id>/predictions/",
        api.ProjectPredictionsView.as_view(),
        name="project-predictions",
    ),
    path(
        "projects/<uuid:project_id>/models/",
        api_models.ProjectModelsView.as_view(),
        name="project-models",
    ),
]
