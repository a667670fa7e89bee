"""Worker endpoints: lease the next task, submit an answer, skip; and task images."""

from django.core.files.storage import default_storage
from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.response import Response

from sebenzai.common.errors import NotFound
from sebenzai.common.parsers import JSONParser

from ..images import CONTENT_TYPES
from ..models import Assignment, Project, ProjectStatus, Task
from ..selectors import task_image_readable
from ..services.assignments import assignment_skip, task_lease_next
from ..services.submissions import annotation_submit
from .permissions import IsWorker
from .serializers import NextTaskRequestSerializer, SkipSerializer, SubmitSerializer

# One body for "not yours" and "does not exist", so ids cannot be probed.
NO_SUCH_ASSIGNMENT = {"message": "No such assignment.", "field": "assignment"}


def lease_body(assignment: Assignment) -> dict:
    """What a worker sees of a task: never the gold answer, never anyone else's answers, and the
    same fields for gold and ordinary tasks."""
    task, project = assignment.task, assignment.task.project
    return {
        "assignment": str(assignment.pk),
        "task": str(task.pk),
        "project": str(project.pk),
        "image_url": f"/api/v1/tasks/{task.pk}/image/",
        "width": task.width,
        "height": task.height,
        "kind": project.kind,
        "labels": project.labels,
        "instructions": project.instructions,
        "expires_at": assignment.expires_at.isoformat(),
    }


@extend_schema(
    request=NextTaskRequestSerializer,
    responses={200: dict, 204: OpenApiResponse(description="Nothing to do.")},
)
@api_view(["POST"])
@parser_classes([JSONParser])
@permission_classes([IsWorker])
def next_task(request):
    serializer = NextTaskRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    project = None
    if "project" in serializer.validated_data:
        project = Project.objects.filter(
            pk=serializer.validated_data["project"], status=ProjectStatus.ACTIVE
        ).first()
        if project is None:
            raise NotFound("No active project with this id.", field="project")
    assignment = task_lease_next(worker=request.user, project=project)
    if assignment is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(lease_body(assignment))


@extend_schema(request=SubmitSerializer, responses={201: dict})
@api_view(["POST"])
@parser_classes([JSONParser])
@permission_classes([IsWorker])
def submit(request, assignment_id):
    serializer = SubmitSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        annotation = annotation_submit(
            assignment_id=assignment_id,
            worker=request.user,
            payload=serializer.validated_data["payload"],
            duration_ms=serializer.validated_data.get("duration_ms"),
        )
    except Assignment.DoesNotExist as exc:
        raise NotFound(**NO_SUCH_ASSIGNMENT) from exc
    return Response(
        {"annotation": str(annotation.pk), "assignment": str(assignment_id), "state": "submitted"},
        status=201,
    )


@extend_schema(request=SkipSerializer, responses={200: dict})
@api_view(["POST"])
@parser_classes([JSONParser])
@permission_classes([IsWorker])
def skip(request, assignment_id):
    SkipSerializer(data=request.data).is_valid(raise_exception=True)
    try:
        assignment = assignment_skip(assignment_id=assignment_id, worker=request.user)
    except Assignment.DoesNotExist as exc:
        raise NotFound(**NO_SUCH_ASSIGNMENT) from exc
    return Response({"assignment": str(assignment.pk), "state": assignment.state})


@extend_schema(responses={(200, "image/*"): bytes})
@api_view(["GET"])
def task_image(request, task_id):
    """The image bytes, to the owner, staff and the worker holding a live lease. Served with the
    type of the format we detected, never sniffed, and sandboxed should a browser open it."""
    task = Task.objects.select_related("project").filter(pk=task_id).first()
    if task is None or not task_image_readable(task=task, user=request.user):
        raise NotFound()
    handle = default_storage.open(task.image, "rb")
    response = FileResponse(handle, content_type=CONTENT_TYPES[task.image_format])
    response["Content-Disposition"] = (
        f'inline; filename="{task.pk}.{task.image.rsplit(".", 1)[-1]}"'
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
