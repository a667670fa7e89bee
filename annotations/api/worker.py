"""Worker endpoints: lease the next task (or one beyond those held, to prefetch), submit an answer,
skip, give a prefetched lease back; feedback on check tasks. Task images: annotations/api/images.py."""

from django.utils.translation import get_language
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import (
    api_view,
    parser_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.parsers import FormParser
from rest_framework.response import Response

from accounts.permissions import IsWorker
from sebenzai.common.errors import NotFound
from sebenzai.common.parsers import JSONParser
from sebenzai.common.throttles import SubmitThrottle, WorkThrottle

from ..models import Assignment
from ..selectors import project_active
from ..services.assignments import assignment_release, assignment_skip, task_lease_next
from ..services.submissions import NextLease, annotation_submit, lease_after_submit
from ..translations import project_text
from .serializers import NextTaskRequestSerializer, SkipSerializer, SubmitSerializer

# One body for "not yours" and "does not exist", so ids cannot be probed.
NO_SUCH_ASSIGNMENT = {"message": "No such assignment.", "field": "assignment"}


def lease_body(assignment: Assignment) -> dict:
    """What a worker sees of a task: never the gold answer, never anyone else's answers, and the
    same fields for gold and ordinary tasks. Instructions and label titles come in the request's
    language (LocaleMiddleware activated it), else the original; label names stay canonical."""
    task, project = assignment.task, assignment.task.project
    text = project_text(project, get_language())
    return {
        "assignment": str(assignment.pk),
        "task": str(task.pk),
        "project": str(project.pk),
        "image_url": f"/api/v1/tasks/{task.pk}/image/",
        "width": task.width,
        "height": task.height,
        "kind": project.kind,
        "labels": text.labels,
        "instructions": text.instructions,
        "expires_at": assignment.expires_at.isoformat(),
        # Pre-labelling: the model's answer to start from, on gold and other tasks alike.
        "proposal": task.proposal if assignment.proposal_shown else None,
    }


@extend_schema(
    request=NextTaskRequestSerializer,
    responses={200: dict, 204: OpenApiResponse(description="Nothing to do.")},
)
@api_view(["POST"])
@parser_classes([JSONParser])
@permission_classes([IsWorker])
@throttle_classes([WorkThrottle])
def next_task(request):
    serializer = NextTaskRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    wanted = serializer.validated_data
    project = project_active(wanted.get("project"), field="project")
    assignment = task_lease_next(
        worker=request.user, project=project, holding=wanted.get("holding")
    )
    if assignment is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(lease_body(assignment))


@extend_schema(request=SubmitSerializer, responses={201: dict})
@api_view(["POST"])
@parser_classes([JSONParser])
@permission_classes([IsWorker])
@throttle_classes([SubmitThrottle])
def submit(request, assignment_id):
    serializer = SubmitSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    answer = serializer.validated_data
    wanted = answer.get("next")
    # Checked before the answer is stored: a bad ``next`` refuses the whole request.
    project = project_active(wanted.get("project"), field="next.project") if wanted else None
    try:
        annotation = annotation_submit(
            assignment_id=assignment_id,
            worker=request.user,
            payload=answer["payload"],
            duration_ms=answer.get("duration_ms"),
        )
    except Assignment.DoesNotExist as exc:
        raise NotFound(**NO_SUCH_ASSIGNMENT) from exc
    body = {
        "annotation": str(annotation.pk),
        "assignment": str(assignment_id),
        "state": "submitted",
    }
    if wanted is not None:
        after = lease_after_submit(
            worker=request.user,
            project=project or annotation.task.project,
            holding=wanted.get("holding"),
        )
        body.update(_next_body(after))
    return Response(body, status=201)


def _next_body(after: NextLease) -> dict:
    if after.refusal is not None:
        refusal = after.refusal
        error = {"code": refusal.code, "message": refusal.message, "field": "next"}
        return {"next": None, "next_error": {**error, **refusal.extra}}
    return {"next": lease_body(after.assignment) if after.assignment is not None else None}


@extend_schema(request=SkipSerializer, responses={200: dict})
@api_view(["POST"])
@parser_classes([JSONParser])
@permission_classes([IsWorker])
@throttle_classes([SubmitThrottle])
def skip(request, assignment_id):
    return _give_back(request, assignment_id, assignment_skip)


@extend_schema(request=SkipSerializer, responses={200: dict})
@api_view(["POST"])
@parser_classes([JSONParser, FormParser])
@permission_classes([IsWorker])
@throttle_classes([SubmitThrottle])
def release(request, assignment_id):
    """Give back a prefetched lease the page will not show. The page sends it as a beacon as it
    unloads: a form whose one field is the CSRF token (a beacon cannot set the header)."""
    return _give_back(request, assignment_id, assignment_release)


def _give_back(request, assignment_id, give_back) -> Response:
    fields = request.data
    if hasattr(fields, "items"):  # (a list is refused by the serializer, as any body but {})
        fields = {name: value for name, value in fields.items() if name != "csrfmiddlewaretoken"}
    SkipSerializer(data=fields).is_valid(raise_exception=True)
    try:
        assignment = give_back(assignment_id=assignment_id, worker=request.user)
    except Assignment.DoesNotExist as exc:
        raise NotFound(**NO_SUCH_ASSIGNMENT) from exc
    return Response({"assignment": str(assignment.pk), "state": assignment.state})
