"""Worker endpoints: lease the next task (or one beyond those held, to prefetch), submit an answer,
skip, give a prefetched lease back; task images, scaled on request; feedback on check tasks."""

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from django.utils.cache import patch_vary_headers
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
from sebenzai.common.errors import DomainError, NotFound
from sebenzai.common.parsers import JSONParser
from sebenzai.common.throttles import SubmitThrottle, WorkThrottle

from ..images import CONTENT_TYPES, image_scale, scaled_name, scaled_size_for
from ..models import Assignment, Task
from ..selectors import project_active, task_image_readable
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


IMAGE_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, max-age=86400",
}


def requested_size(request) -> int | None:
    """The ``size`` query parameter: the longest side wanted, in px, or None for the original."""
    raw = request.query_params.get("size")
    if raw is None:
        return None
    if not raw.isdigit() or not 16 <= int(raw) <= 10_000:
        raise DomainError(
            code="invalid_size", field="size", message="Expected a whole number of px, 16 to 10000."
        )
    return scaled_size_for(int(raw))


def scaled_image(task: Task, size: int) -> bytes:
    """The cached scaled copy, made on first request. Named by content hash and size, so a copy
    is valid for as long as the image exists, and two racing requests write the same bytes."""
    name = scaled_name(sha256=task.sha256, size=size)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    with default_storage.open(task.image, "rb") as handle:
        content = image_scale(handle.read(), size=size)
    saved = default_storage.save(name, ContentFile(content))
    if saved != name:  # another request saved it first; keep theirs
        default_storage.delete(saved)
    return content


@extend_schema(responses={(200, "image/*"): bytes})
@api_view(["GET"])
def task_image(request, task_id):
    """The image bytes, to the owner, staff and the worker holding a live lease. Served with the
    type of the format we detected, never sniffed, and sandboxed should a browser open it.
    With ``?size=N`` a WebP copy whose longest side is about N px (never larger than the
    original): coordinates stay in original pixels, as the page draws the copy at full size.
    Without ``size``, a request that says ``Save-Data: on`` gets a copy of SAVE_DATA_IMAGE_PX."""
    size = requested_size(request)
    if size is None and request.headers.get("Save-Data") == "on":
        # The browser's data saver: unless a size is asked for, no more than a phone needs.
        size = scaled_size_for(settings.SEBENZAI["SAVE_DATA_IMAGE_PX"])
    task = Task.objects.select_related("project").filter(pk=task_id).first()
    if task is None or not task_image_readable(task=task, user=request.user):
        raise NotFound()
    extension = task.image.rsplit(".", 1)[-1]
    if size is not None and size < max(task.width, task.height):
        response = HttpResponse(scaled_image(task, size), content_type="image/webp")
        extension = "webp"
    else:
        handle = default_storage.open(task.image, "rb")
        response = FileResponse(handle, content_type=CONTENT_TYPES[task.image_format])
    response["Content-Disposition"] = f'inline; filename="{task.pk}.{extension}"'
    for header, value in IMAGE_HEADERS.items():
        response[header] = value
    patch_vary_headers(response, ["Save-Data"])
    return response
