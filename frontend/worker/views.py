"""Workers' pages. Thin: each view reads through a selector or calls one service and renders.
Labelling itself happens in the browser against the worker API (frontend/static/.../worker/)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from accounts.services import user_create, user_role
from sebenzai.common.errors import DomainError
from sebenzai.common.throttles import attempts_over_limit, signup_keys
from workers.history import answers_history
from workers.selectors import PERIODS, leaderboard, leaderboard_rank, worker_summary

from .forms import SignUpForm
from .security import worker_csp
from .selectors import projects_open_for_work

HISTORY_PAGE = 50


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
        form.add_error(None, "Too many sign-ups from this address. Try again later.")
        return render(request, "registration/signup.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_create(
                username=data["username"], password=data["password"], role=Role.WORKER
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("frontend:home")
    return render(request, "registration/signup.html", {"form": form})


@worker_page
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "summary": worker_summary(user=request.user),
        "projects": projects_open_for_work(user=request.user),
    }
    return render(request, "frontend/worker/home.html", context)


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
    return render(request, "frontend/worker/instructions.html", {"project": project})


@worker_page
def leaderboard_page(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "week")
    if period not in PERIODS:
        period = "week"
    context = {
        "period": period,
        "periods": [("today", "Today"), ("week", "This week"), ("all", "All time")],
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
