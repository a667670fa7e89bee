"""Workers' pages. Thin: each view reads through a selector or calls one service and renders.
Labelling itself happens in the browser against the worker API (frontend/static/.../worker/)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from functools import wraps

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext, gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from accounts.services import user_create, user_role
from annotations.models import Project
from annotations.translations import project_text
from sebenzai.common.errors import DomainError
from sebenzai.common.throttles import attempts_over_limit, signup_keys
from workers.history import answers_history
from workers.selectors import PERIODS, leaderboard, leaderboard_rank, worker_summary

from .forms import SignUpForm
from .security import worker_csp
from .selectors import projects_open_for_work
from .texts import badge_translated

HISTORY_PAGE = 50
# The sign-up service's errors in the worker's language (a weak password's come translated by
# Django's validators; anything else shows the service's English).
SIGNUP_ERRORS = {
    "username_taken": gettext_lazy("This username is taken."),
    "username_confusable": gettext_lazy(
        "This username looks like one that is taken; choose another."
    ),
}
PERIOD_NAMES = [
    ("today", gettext_lazy("Today")),
    ("week", gettext_lazy("This week")),
    ("all", gettext_lazy("All time")),
]


def worker_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, with the strict CSP; accounts that do not label see a short explanation."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if user_role(user=request.user) != Role.WORKER:
            return render(request, "frontend/worker/not_worker.html", status=403)
        return view(request, *args, **kwargs)

    return login_required(worker_csp(wrapped))


@worker_csp
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("frontend:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and attempts_over_limit("register", signup_keys(request)):
        form.add_error(None, gettext("Too many sign-ups from this address. Try again later."))
        return render(request, "registration/signup.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_create(
                username=data["username"], password=data["password"], role=Role.WORKER
            )
        except DomainError as exc:
            message = str(SIGNUP_ERRORS.get(exc.code, exc.message))
            form.add_error(exc.field if exc.field in form.fields else None, message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("frontend:home")
    return render(request, "registration/signup.html", {"form": form})


@worker_page
def home(request: HttpRequest) -> HttpResponse:
    summary = worker_summary(user=request.user)
    summary = replace(summary, badges=[badge_translated(badge) for badge in summary.badges])
    projects = projects_open_for_work(user=request.user)
    return render(request, "frontend/worker/home.html", {"summary": summary, "projects": projects})


@worker_page
def label(request: HttpRequest) -> HttpResponse:
    project = _project_param(request)
    config = {
        "project": str(project.pk) if project else None,
        "projectName": project.name if project else None,
    }
    return render(request, "frontend/worker/label.html", {"config": config, "project": project})


def _project_param(request: HttpRequest):
    raw = request.GET.get("project")
    if not raw:
        return None
    try:
        project_id = uuid.UUID(raw)
    except ValueError as exc:
        raise Http404("No such project.") from exc
    return get_object_or_404(projects_open_for_work(user=request.user), pk=project_id)


@worker_page
def instructions(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    project = get_object_or_404(projects_open_for_work(user=request.user), pk=project_id)
    return render(request, "frontend/worker/instructions.html", _instructions_context(project))


def _instructions_context(project: Project) -> dict:
    """The project's instructions and label names in the worker's language (else the original)."""
    text = project_text(project, get_language())
    return {
        "project": project,
        "instructions": text.instructions,
        "labels": [label["title"] for label in text.labels],
    }


@worker_page
def leaderboard_page(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "week")
    if period not in PERIODS:
        period = "week"
    context = {
        "period": period,
        "periods": PERIOD_NAMES,
        "standings": leaderboard(period=period),
        "mine": leaderboard_rank(user=request.user, period=period),
    }
    return render(request, "frontend/worker/leaderboard.html", context)


@worker_page
def history(request: HttpRequest) -> HttpResponse:
    page = request.GET.get("page", "1")
    number = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    rows, more = answers_history(
        user=request.user, offset=(number - 1) * HISTORY_PAGE, limit=HISTORY_PAGE
    )
    context = {"rows": rows, "page": number, "more": more}
    return render(request, "frontend/worker/history.html", context)
