"""Requester endpoints: projects, uploads, gold answers, progress and results."""

from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.permissions import IsRequester
from sebenzai.common.errors import Conflict, DomainError
from sebenzai.common.negotiation import StrictContentNegotiation
from sebenzai.common.parsers import JSONParser
from sebenzai.common.throttles import UploadThrottle

from ..models import Project, TaskState
from ..selectors import project_progress, projects_visible, task_results
from ..services.gold import gold_set
from ..services.intake import files_from_archive, files_from_uploads, tasks_create_from_files
from ..services.projects import project_create, project_update
from .serializers import (
    GoldSerializer,
    ProjectSerializer,
    ResultSerializer,
    UploadSerializer,
    upload_group,
    upload_sampling,
)

RESULT_PARAMS = {"state", "cursor", "page_size", "format"}


class ProjectViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ProjectSerializer
    permission_classes = [IsRequester]
    content_negotiation_class = StrictContentNegotiation
    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return Project.objects.none()
        # Tenancy lives here: another requester's project is simply not found (404).
        return projects_visible(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = project_create(
            owner=self.request.user, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = project_update(
            project_id=serializer.instance.pk, data=serializer.validated_data
        )

    @extend_schema(request=UploadSerializer, responses={201: dict})
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[MultiPartParser],
        url_path="tasks",
        throttle_classes=[UploadThrottle],
    )
    def upload(self, request, pk=None):
        project = self.get_object()
        serializer = UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        files = (
            files_from_archive(data["archive"])
            if "archive" in data
            else files_from_uploads(data["images"])
        )
        try:
            report = tasks_create_from_files(
                project=project,
                files=files,
                sampling=upload_sampling(data),
                group=upload_group(data),
            )
        except IntegrityError as exc:
            raise Conflict(
                code="concurrent_upload",
                field="images",
                message="Another upload of the same images is in progress; retry.",
            ) from exc
        if not report.created and not report.duplicates:
            first = report.errors[0]
            raise DomainError(
                code=first["code"],
                field=first["field"],
                message=first["message"],
                details=report.errors,
            )
        return Response(report.as_dict(), status=status.HTTP_201_CREATED)

    @extend_schema(request=GoldSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def gold(self, request, pk=None):
        project = self.get_object()
        serializer = GoldSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tasks = gold_set(project=project, items=serializer.validated_data["gold"])
        return Response({"gold": [str(t.pk) for t in tasks]})

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        return Response(project_progress(project=self.get_object()))

    @extend_schema(responses={200: ResultSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        project = self.get_object()
        unknown = sorted(set(request.query_params) - RESULT_PARAMS)
        if unknown:
            raise DomainError(
                code="unknown_filter", field=unknown[0], message="Unknown query parameter."
            )
        state = request.query_params.get("state")
        if state is not None and state not in TaskState.values:
            message = f"Expected one of: {', '.join(TaskState.values)}."
            raise DomainError(code="invalid_choice", field="state", message=message)
        page = self.paginate_queryset(task_results(project=project, state=state))
        return self.get_paginated_response(ResultSerializer(page, many=True).data)
