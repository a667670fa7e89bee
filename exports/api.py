"""Export and webhook endpoints. Another requester's project or export is a 404, the same as
one that does not exist; the download, the webhook and its delivery log are the owner's alone."""

from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsRequester
from annotations.models import Project
from annotations.selectors import projects_visible
from sebenzai.common.throttles import ExportCreateThrottle

from .download import CONTENT_TYPE, ExportDownload, export_download
from .models import Export, ProjectWebhook
from .options import export_options_build
from .selectors import deliveries_of_project, exports_of_project, exports_visible
from .serializers import (
    DeliverySerializer,
    ExportRequestSerializer,
    ExportSerializer,
    WebhookRequestSerializer,
    WebhookSerializer,
    WebhookWithSecretSerializer,
)
from .services import export_request
from .webhooks import webhook_delete, webhook_set


def _owned_project(request, project_id) -> Project:
    return get_object_or_404(Project.objects.filter(owner=request.user), pk=project_id)


class ProjectExportsView(generics.GenericAPIView):
    permission_classes = [IsRequester]
    serializer_class = ExportSerializer

    def get_throttles(self):
        return [ExportCreateThrottle()] if self.request.method == "POST" else []

    def _project(self) -> Project:
        visible = projects_visible(user=self.request.user)
        return get_object_or_404(visible, pk=self.kwargs["project_id"])

    @extend_schema(responses=ExportSerializer(many=True))
    def get(self, request, project_id):
        page = self.paginate_queryset(exports_of_project(project=self._project()))
        return self.get_paginated_response(ExportSerializer(page, many=True).data)

    @extend_schema(request=ExportRequestSerializer, responses={202: ExportSerializer})
    def post(self, request, project_id):
        project = self._project()
        serializer = ExportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        options = export_options_build(
            kind=project.kind,
            fmt=data["format"],
            split=data.get("split"),
            min_confidence=data.get("min_confidence"),
            group_by=data.get("group_by"),
        )
        export, _ = export_request(
            project=project,
            user=request.user,
            options=options,
            url_for=lambda pk: request.build_absolute_uri(reverse("export-download", args=[pk])),
        )
        location = reverse("export-detail", args=[export.pk])
        body = ExportSerializer(export).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


class ExportDetailView(generics.RetrieveAPIView):
    permission_classes = [IsRequester]
    serializer_class = ExportSerializer
    lookup_url_kwarg = "export_id"

    def get_queryset(self):
        return exports_visible(user=self.request.user)


class ExportDownloadView(APIView):
    permission_classes = [IsRequester]

    @extend_schema(
        responses={
            (200, CONTENT_TYPE): bytes,
            302: OpenApiResponse(description="to a short-lived URL of the object store"),
            409: OpenApiResponse(),
            410: OpenApiResponse(description="the zip is gone; request a new export"),
            503: OpenApiResponse(description="the object store did not answer"),
        }
    )
    def get(self, request, export_id):
        owned = Export.objects.select_related("project").filter(project__owner=request.user)
        export = get_object_or_404(owned, pk=export_id)
        response = _download_response(export_download(export=export))
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response["Cache-Control"] = "private, no-store"
        return response


def _download_response(download: ExportDownload) -> HttpResponse:
    if download.url is not None:
        return HttpResponseRedirect(download.url)
    response = FileResponse(
        download.file, as_attachment=True, filename=download.filename, content_type=CONTENT_TYPE
    )
    if download.size is not None:  # an object's body: FileResponse cannot measure it
        response["Content-Length"] = str(download.size)
    return response


class ProjectWebhookView(APIView):
    permission_classes = [IsRequester]

    @extend_schema(responses=WebhookSerializer)
    def get(self, request, project_id):
        project = _owned_project(request, project_id)
        webhook = get_object_or_404(ProjectWebhook, project=project)
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(request=WebhookRequestSerializer, responses=WebhookWithSecretSerializer)
    def put(self, request, project_id):
        project = _owned_project(request, project_id)
        serializer = WebhookRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        webhook = webhook_set(project=project, url=data["url"], rotate_secret=data["rotate_secret"])
        return Response(WebhookWithSecretSerializer(webhook).data)

    @extend_schema(responses={204: None})
    def delete(self, request, project_id):
        webhook_delete(project=_owned_project(request, project_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveriesView(generics.ListAPIView):
    permission_classes = [IsRequester]
    serializer_class = DeliverySerializer

    def get_queryset(self):
        project = _owned_project(self.request, self.kwargs["project_id"])
        return deliveries_of_project(project=project)
