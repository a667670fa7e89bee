"""POST a model's predictions on a project's tasks (JSON, or a file models already write), GET
the project's model versions. Another requester's project is a 404, as one that does not exist."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsRequester
from annotations.models import Project
from annotations.selectors import projects_visible
from sebenzai.common.parsers import JSONParser
from sebenzai.common.throttles import UploadThrottle

from .files import items_from_files
from .serializers import PredictionFileSerializer, PredictionsRequestSerializer
from .services import items_from_json, models_of, predictions_store


class ProjectUploadView(APIView):
    """A project's owner (or staff) sends files or many items: POST is throttled as uploads are,
    and another requester's project is a 404, as one that does not exist."""

    permission_classes = [IsRequester]

    def get_throttles(self):
        return [UploadThrottle()] if self.request.method == "POST" else []

    def _project(self) -> Project:
        visible = projects_visible(user=self.request.user)
        return get_object_or_404(visible, pk=self.kwargs["project_id"])


class ProjectPredictionsView(ProjectUploadView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(responses={200: dict})
    def get(self, request, project_id):
        return Response({"models": models_of(project=self._project())})

    @extend_schema(request=PredictionsRequestSerializer, responses={201: dict})
    def post(self, request, project_id):
        project = self._project()
        if request.content_type.startswith("multipart/"):
            serializer = PredictionFileSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            items = items_from_files(
                project=project,
                fmt=data["format"],
                files=data.get("file"),
                archive=data.get("archive"),
            )
        else:
            serializer = PredictionsRequestSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            items = items_from_json(data["predictions"])
        report = predictions_store(project=project, model=data["model"], items=items)
        return Response(report, status=status.HTTP_201_CREATED)
