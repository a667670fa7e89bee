"""The exports API under /api/v1/: a project's exports and webhook, one export and its zip."""

from django.urls import path

from . import api

urlpatterns = [
    path(
        "projects/<uuid:project_id>/exports/",
        api.ProjectExportsView.as_view(),
        name="project-exports",
    ),
    path(
        "projects/<uuid:project_id>/webhook/",
        api.ProjectWebhookView.as_view(),
        name="project-webhook",
    ),
    path(
        "projects/<uuid:project_id>/webhook/deliveries/",
        api.WebhookDeliveriesView.as_view(),
        name="project-webhook-deliveries",
    ),
    path("exports/<uuid:export_id>/", api.ExportDetailView.as_view(), name="export-detail"),
    path(
        "exports/<uuid:export_id>/download/",
        api.ExportDownloadView.as_view(),
        name="export-download",
    ),
]
