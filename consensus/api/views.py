"""Staff-only endpoints: dashboard figures, the review queue and its decisions, workers and blocks,
a fresh scoring attempt for a task whose scoring was quarantined, and the services' health.

Thin: each view parses input, calls one selector or service of ``consensus``, shapes the output.
Any account that is not staff is refused (403) before a project or task is looked up.
"""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from annotations.models import Project
from sebenzai.common.errors import NotFound
from sebenzai.common.health import services_health
from sebenzai.common.serializers import (
    PayloadField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    StrictUUIDField,
)

from ..blocking import worker_block
from ..dashboard import dashboard_figures
from ..models import ReviewAction, ReviewDecision
from ..quality import workers_table
from ..review import review_item, review_queue, task_review_decide
from ..services import task_scoring_retry

User = get_user_model()


class IsStaff(BasePermission):
    message = "Only staff can do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class ReviewDecisionSerializer(StrictSerializer):
    action = serializers.ChoiceField(choices=ReviewAction.choices)
    version = StrictIntegerField(min_value=0)
    annotation = StrictUUIDField(required=False)
    label = PayloadField(required=False)

    def validate(self, attrs):
        needs = {ReviewAction.PICK: "annotation", ReviewAction.EDIT: "label"}.get(attrs["action"])
        if needs and needs not in attrs:
            raise serializers.ValidationError({needs: ["Required for this action."]}, "required")
        return attrs


class BlockSerializer(StrictSerializer):
    reason = StrictCharField(max_length=200, required=False, allow_blank=True)


def _project(project_id) -> Project:
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise NotFound("No such project.", field="project")
    return project


def decision_body(decision: ReviewDecision) -> dict:
    return {
        "task": str(decision.task_id),
        "action": decision.action,
        "label": decision.label,
        "picked_annotation": str(decision.picked_annotation_id or "") or None,
        "reviewer": decision.reviewer.username,
        "created_at": decision.created_at.isoformat(),
        "replaced": {
            "state": decision.replaced_state,
            "label": decision.replaced_label,
            "confidence": decision.replaced_confidence,
        },
    }


def _task_row(task) -> dict:
    consensus = getattr(task, "consensus", None)
    return {
        "task": str(task.pk),
        "state": task.state,
        "confidence": consensus.confidence if consensus else None,
        "answers": task.answers_count,
        "version": consensus.version if consensus else 0,
    }


@extend_schema(responses={200: dict})
@api_view(["GET"])
@permission_classes([IsStaff])
def dashboard(request, project_id):
    return Response(dashboard_figures(project=_project(project_id)))


@extend_schema(responses={200: dict})
@api_view(["GET"])
@permission_classes([IsStaff])
def queue(request, project_id):
    tasks = review_queue(project=_project(project_id))
    return Response({"tasks": [_task_row(t) for t in tasks]})


@extend_schema(request=ReviewDecisionSerializer, responses={200: dict, 201: dict})
@api_view(["GET", "POST"])
@permission_classes([IsStaff])
def review(request, task_id):
    if request.method == "POST":
        return _decide(request, task_id)
    item = review_item(task_id=task_id)
    if item is None:
        raise NotFound("No such task.", field="task")
    return Response(review_body(item))


def _decide(request, task_id) -> Response:
    serializer = ReviewDecisionSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    decision = task_review_decide(
        task_id=task_id,
        reviewer=request.user,
        action=data["action"],
        version=data["version"],
        annotation_id=data.get("annotation"),
        label=data.get("label"),
    )
    return Response(decision_body(decision), status=201)


def review_body(item: dict) -> dict:
    task, consensus = item["task"], item["consensus"]
    return {
        **_task_row(task),
        "kind": task.project.kind,
        "width": task.width,
        "height": task.height,
        "image_url": f"/api/v1/tasks/{task.pk}/image/",
        "accepted_label": task.accepted_label,
        "fused": consensus.label if consensus else None,
        "decision": decision_body(item["decision"]) if item["decision"] else None,
        "answers": [
            {
                "annotation": str(a["annotation"].pk),
                "worker": a["worker"],
                "payload": a["annotation"].payload,
                "agreement": a["annotation"].agreement,
                "skill": a["skill"],
            }
            for a in item["answers"]
        ],
    }


@extend_schema(request=None, responses={200: dict, 202: dict})
@api_view(["POST"])
@permission_classes([IsStaff])
def scoring_retry(request, task_id):
    """202 when failed answers were re-queued for scoring; 200 when none had failed."""
    requeued = task_scoring_retry(task_id=task_id)
    body = {"task": str(task_id), "requeued_answers": requeued}
    return Response(body, status=202 if requeued else 200)


@extend_schema(responses={200: dict})
@api_view(["GET"])
@permission_classes([IsStaff])
def workers(request, project_id):
    return Response({"workers": workers_table(project=_project(project_id))})


@extend_schema(request=BlockSerializer, responses={200: dict, 201: dict})
@api_view(["POST"])
@permission_classes([IsStaff])
def block(request, project_id, worker_id):
    serializer = BlockSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    project = _project(project_id)
    worker = User.objects.filter(pk=worker_id).first()
    if worker is None:
        raise NotFound("No such worker.", field="worker")
    outcome = worker_block(
        project=project,
        worker=worker,
        blocked_by=request.user,
        reason=serializer.validated_data.get("reason", ""),
    )
    body = {"worker": worker.pk, "blocked": True, "rescored_tasks": outcome.rescored}
    return Response(body, status=201 if outcome.created else 200)


class ServiceHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "down", "unused"])
    latency_ms = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_null=True, help_text="The error's class when down.")
    fallback = serializers.BooleanField(help_text="This web process is going without it.")


class ServicesHealthSerializer(serializers.Serializer):
    database = ServiceHealthSerializer()
    cache = ServiceHealthSerializer()
    broker = ServiceHealthSerializer()
    checked_at = serializers.DateTimeField()


@extend_schema(responses={200: ServicesHealthSerializer})
@api_view(["GET"])
@permission_classes([IsStaff])
def health(request):
    """The database, the cache's Redis and the Celery broker, checked now from the web process
    that answers (see ``sebenzai.common.health``)."""
    return Response(services_health())
