"""Staff pages. Thin: each view renders a template; figures come from ``consensus.dashboard``
and ``consensus.quality``.

Only staff reach them: an anonymous visitor is sent to sign in, any other account gets a 404, as
if the pages did not exist. Decisions, blocks and scoring retries are posted by the pages'
scripts to the staff API (``/api/v1/staff/``), which checks the same.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string

from annotations.models import Project, Task
from annotations.selectors import projects_visible
from consensus.dashboard import dashboard_figures
from consensus.quality import workers_table
from consensus.review import review_queue

from .panels import dashboard_panels

REFRESH_SECONDS = 5


def staff_required(view: Callable) -> Callable:
    @login_required
    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return guarded


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    projects = projects_visible(user=request.user).order_by("-created_at")
    return render(request, "frontend/staff/index.html", {"projects": projects})


@staff_required
def dashboard(request: HttpRequest, project_id) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id)
    figures = dashboard_figures(project=project)
    context = {
        "project": project,
        "panels": dashboard_panels(figures),
        "score_failed": figures["score_failed"],
        "figures": figures,
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render(request, "frontend/staff/dashboard.html", context)


@staff_required
def dashboard_live(request: HttpRequest, project_id) -> JsonResponse:
    """The dashboard's figures and its panels freshly drawn, polled by the page."""
    project = get_object_or_404(Project, pk=project_id)
    figures = dashboard_figures(project=project)
    context = {"panels": dashboard_panels(figures), "score_failed": figures["score_failed"]}
    html = render_to_string("frontend/staff/_panels.html", context, request=request)
    return JsonResponse({"figures": figures, "html": html})


@staff_required
def queue(request: HttpRequest, project_id) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id)
    context = {"project": project, "tasks": review_queue(project=project)}
    return render(request, "frontend/staff/queue.html", context)


@staff_required
def review(request: HttpRequest, task_id) -> HttpResponse:
    task = get_object_or_404(Task.objects.select_related("project"), pk=task_id, is_gold=False)
    queue_ids = [str(t.pk) for t in review_queue(project=task.project)]
    following = next((i for i in queue_ids if i != str(task.pk)), None)
    context = {"task": task, "project": task.project, "next_task": following}
    return render(request, "frontend/staff/review.html", context)


@staff_required
def workers(request: HttpRequest, project_id) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id)
    context = {"project": project, "workers": workers_table(project=project)}
    return render(request, "frontend/staff/workers.html", context)
