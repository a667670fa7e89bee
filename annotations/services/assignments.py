"""Leasing tasks to workers, skipping and expiring leases.

Concurrency: the candidate task row is locked with ``SELECT … FOR UPDATE SKIP LOCKED``, so two
workers asking at once take different rows instead of queueing on one; the slot counter only
moves under that lock, a check constraint refuses over-assignment, and the unique (task, worker)
constraint makes it impossible to serve one worker the same task twice.

Prefetch: the labelling page holds the tasks after the one shown (``holding``), so Submit shows the
next at once. A worker holds at most 1 + PREFETCH_DEPTH live leases, each counts in its task's
redundancy like any lease, none is taken ahead near the end of a project (where it could keep the
last slots from another worker), and a prefetched lease the page gives up (leaving, or too old to
use) is released.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Value
from django.db.models.functions import Abs, Coalesce, Round
from django.utils import timezone

from sebenzai.common.errors import Conflict, SlowDown

from ..models import (
    Assignment,
    AssignmentState,
    Project,
    ProjectBlock,
    ProjectKind,
    ProjectStatus,
    Task,
    TaskOrder,
    TaskState,
)

EXPIRE_BATCH = 500
LEASE_ATTEMPTS = 5
# Leases a page may hold beyond the one shown. Two, so that at the fastest pace the server takes
# (MIN_ANSWER_MS) one is always there while the other is fetched, even on Slow 3G (a submit, a
# lease and an image take ~2 s there; benchmarks/worker_reach.py).
PREFETCH_DEPTH = 2


def _live_leases(worker: AbstractBaseUser) -> QuerySet[Assignment]:
    return Assignment.objects.filter(
        worker=worker, state=AssignmentState.LEASED, expires_at__gt=timezone.now()
    )


def _lease_loaded(pk: object) -> Assignment:
    return Assignment.objects.select_related("task__project").get(pk=pk)


def _candidates(worker: AbstractBaseUser, project: Project | None, *, gold: bool) -> QuerySet[Task]:
    answered = Assignment.objects.filter(task=OuterRef("pk"), worker=worker)
    blocked = ProjectBlock.objects.filter(project=OuterRef("project"), worker=worker)
    tasks = Task.objects.filter(state=TaskState.OPEN, is_gold=gold).filter(~Exists(blocked))
    if project is not None:
        tasks = tasks.filter(project=project)
    else:
        tasks = tasks.filter(project__status=ProjectStatus.ACTIVE)
    if not gold:
        # Nearest completion first: a task missing one answer beats a fresh one. The order
        # matches the partial index task_open_slots_idx, so no sort of all open tasks. A
        # project that asks for it puts the tasks its model doubts most before all others.
        nearest = (F("target_redundancy") - F("slots_taken"), "created_at", "id")
        doubt_first = project is not None and project.task_order == TaskOrder.MODEL_DOUBT
        first = (F("model_doubt").desc(nulls_last=True),) if doubt_first else ()
        tasks = tasks.filter(slots_taken__lt=F("target_redundancy")).order_by(*first, *nearest)
    else:
        # Gold is held to the most answers an ordinary task can get and drawn at random: served
        # to everyone in one order, colluders comparing notes would spot it (docs/reliability.md C1).
        tasks = tasks.filter(slots_taken__lt=F("project__redundancy_max"))
        tasks = tasks.order_by(*_gold_order(worker, project), "?")
    return tasks.filter(~Exists(answered))


def _gold_order(worker: AbstractBaseUser, project: Project | None) -> tuple:
    """Under doubt-first ordering the work gets easier as it goes; a gold task of another
    difficulty would stand out, so gold as doubtful as the next ordinary task (to the nearest
    tenth, at random within it) comes first."""
    if project is None or project.task_order != TaskOrder.MODEL_DOUBT:
        return ()
    ordinary = _candidates(worker, project, gold=False).values_list("model_doubt", flat=True)
    frontier = ordinary.first()
    if frontier is None:
        return ()
    distance = Abs(Coalesce(F("model_doubt"), Value(0.0)) - Value(frontier))
    return (Round(distance * 10),)


def _project_with_work(worker: AbstractBaseUser) -> Project | None:
    """Without a project asked for, work on the one whose open task is nearest completion."""
    task = _candidates(worker, None, gold=False).select_related("project").first()
    if task is None:
        task = _candidates(worker, None, gold=True).select_related("project").first()
    return task.project if task is not None else None


def task_lease_next(
    *,
    worker: AbstractBaseUser,
    project: Project | None = None,
    holding: list | None = None,
    rng: random.Random | None = None,
) -> Assignment | None:
    """Lease the next task to ``worker``, or return their live lease if they hold one.

    ``holding``: the ids of the leases the page has (shown, prefetched, or answered with the
    answer not sent yet); the answer is then a live lease not among them (one the page asked for
    and lost the reply), else a new one while the worker holds fewer than 1 + PREFETCH_DEPTH and
    there is work to spare. Gold tasks are mixed in at the project's ``gold_ratio``. Returns None
    when there is nothing to do.
    """
    with transaction.atomic():
        # One worker's concurrent requests (a double tap, two tabs) queue on their own user row,
        # so the second finds the lease the first made instead of taking a second task.
        get_user_model().objects.select_for_update().filter(pk=worker.pk).values("pk").first()
        # The worker's live leases, oldest first: a few small rows, read once (the full rows
        # only for the lease answered with, which is rarely an existing one).
        live = list(
            _live_leases(worker).order_by("expires_at").values_list("pk", "task__project_id")
        )
        wanted = {str(pk) for pk in holding or ()}
        held = [(pk, in_project) for pk, in_project in live if str(pk) in wanted]
        for pk, in_project in live:
            if str(pk) not in wanted and (project is None or in_project == project.pk):
                return _lease_loaded(pk)
        if held:
            project = project or Project.objects.get(pk=held[0][1])
            if len(held) > PREFETCH_DEPTH or not _work_to_spare(worker, project):
                return None
        return _lease_for(worker, project, rng)


def _work_to_spare(worker: AbstractBaseUser, project: Project) -> bool:
    """A lease ahead only while the worker has at least PREFETCH_MIN_OPEN_TASKS tasks open to
    them: at the end of a project it would hold a slot another worker could fill now."""
    wanted = settings.SEBENZAI["PREFETCH_MIN_OPEN_TASKS"]
    return _candidates(worker, project, gold=False)[:wanted].count() >= wanted


def _lease_for(
    worker: AbstractBaseUser, project: Project | None, rng: random.Random | None
) -> Assignment | None:
    _skip_streak_check(worker)
    project = project or _project_with_work(worker)
    if project is None or project.status != ProjectStatus.ACTIVE:
        return None
    if _moderation_cap_reached(worker, project):
        return None
    gold_first = (rng or random.Random()).random() < project.gold_ratio  # noqa: S311 - not security
    for _ in range(LEASE_ATTEMPTS):
        for gold in (gold_first, not gold_first):
            assignment = _lease_one(worker, project, gold=gold)
            if assignment is not None:
                return assignment
        # SKIP LOCKED found nothing; that may only mean every candidate row was locked by a
        # concurrent lease at that instant. Try again while open slots remain.
        if not _candidates(worker, project, gold=False).exists():
            return None
    return None


def _skip_streak_check(worker: AbstractBaseUser) -> None:
    """Skipping task after task to cherry-pick easy ones (or gold) earns a cool-down (429)."""
    limits = settings.SEBENZAI
    streak = limits["MAX_SKIPS_IN_A_ROW"]
    recent = list(
        Assignment.objects.filter(worker=worker)
        .order_by("-created_at")
        .values_list("state", "finished_at")[:streak]
    )
    if len(recent) < streak or any(state != AssignmentState.SKIPPED for state, _ in recent):
        return
    wait = recent[0][1] + timedelta(seconds=limits["SKIP_COOLDOWN_SECONDS"]) - timezone.now()
    if wait.total_seconds() > 0:
        raise SlowDown(
            code="too_many_skips",
            field="assignment",
            message=f"You skipped {streak} tasks in a row. Take a short break, then go on.",
            retry_after_ms=int(wait.total_seconds() * 1000),
        )


def _moderation_cap_reached(worker: AbstractBaseUser, project: Project) -> bool:
    """Leases since local midnight count, skipped and expired ones too: each one showed an image."""
    cap = project.moderation_daily_cap
    if project.kind != ProjectKind.MODERATION or cap is None:
        return False
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = Assignment.objects.filter(
        worker=worker, task__project=project, created_at__gte=midnight
    )
    return today.count() >= cap


def _lease_one(worker: AbstractBaseUser, project: Project, *, gold: bool) -> Assignment | None:
    """Caller holds a transaction (task_lease_next's): the row lock lasts until it commits."""
    locked = _candidates(worker, project, gold=gold).select_for_update(
        skip_locked=True, of=("self",)
    )
    task = locked.first()
    if task is None:
        return None
    Task.objects.filter(pk=task.pk).update(slots_taken=F("slots_taken") + 1)
    expires = timezone.now() + timedelta(seconds=settings.SEBENZAI["LEASE_SECONDS"])
    task.project = project
    shown = _proposal_shown(project, task)
    return Assignment.objects.create(
        task=task, worker=worker, expires_at=expires, proposal_shown=shown
    )


def _proposal_shown(project: Project, task: Task) -> bool:
    """Pre-labelling shows a task's proposal only while every task of the project has one:
    were gold (or any task) alone without, a missing proposal would single it out."""
    if not project.prelabel or task.proposal is None:
        return False
    return not Task.objects.filter(project=project, proposal__isnull=True).exists()


def _release(assignment: Assignment, state: AssignmentState) -> None:
    """Caller holds the assignment row lock and has checked it is leased."""
    assignment.state = state
    assignment.finished_at = timezone.now()
    assignment.save(update_fields=["state", "finished_at"])
    Task.objects.filter(pk=assignment.task_id).update(slots_taken=F("slots_taken") - 1)


def assignment_skip(*, assignment_id: object, worker: AbstractBaseUser) -> Assignment:
    """Give a leased task back; the worker will not be offered it again."""
    return _give_back(assignment_id, worker, AssignmentState.SKIPPED, verb="skipped")


def assignment_release(*, assignment_id: object, worker: AbstractBaseUser) -> Assignment:
    """Give back a lease the page will not use (a prefetched task, on leaving): its slot is free
    at once instead of at expiry. It ends as a lease that ran out unanswered does, not as a skip,
    so it does not count towards the skip cool-down."""
    return _give_back(assignment_id, worker, AssignmentState.EXPIRED, verb="released")


@transaction.atomic
def _give_back(
    assignment_id: object, worker: AbstractBaseUser, state: AssignmentState, *, verb: str
) -> Assignment:
    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("task")
        .get(pk=assignment_id, worker=worker)
    )
    if assignment.state != AssignmentState.LEASED:
        message = f"This assignment is {assignment.state}; only a leased task can be {verb}."
        raise Conflict(code=f"assignment_{assignment.state}", field="assignment", message=message)
    _release(assignment, state)
    return assignment


def leases_expire(*, now: object | None = None) -> int:
    """Free the slots of leases past their expiry, in batches that skip rows another process
    holds (a submit in progress), so the reaper never blocks a worker. Returns how many expired."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                Assignment.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("task")
                .filter(state=AssignmentState.LEASED, expires_at__lte=now)[:EXPIRE_BATCH]
            )
            for assignment in batch:
                _release(assignment, AssignmentState.EXPIRED)
        total += len(batch)
        if len(batch) < EXPIRE_BATCH:
            return total


def lease_expire_if_due(assignment: Assignment) -> bool:
    """Caller holds the assignment row lock. Expire a lease found past its time; say whether it was."""
    if assignment.state == AssignmentState.LEASED and assignment.expires_at <= timezone.now():
        _release(assignment, AssignmentState.EXPIRED)
        return True
    return False
