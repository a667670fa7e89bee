"""Selectors for the staff dashboards: a project's figures, computed by aggregate queries.

Every figure is one GROUP BY (or one aggregate) in the database, whatever the project's size, so
the dashboard of a project with 100,000 tasks costs a handful of queries, never one per row.
Progress over time is read from when each task reached its current state (``decided_at``, or
the consensus's last rewrite for tasks in review): a task that went to review and was later
accepted counts as accepted from the moment it was accepted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Avg, Count, F, FloatField, Min, Q, Sum
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce, Floor, Least, Trunc
from django.utils import timezone

from annotations.models import Annotation, Project, ScoreState, Task, TaskState
from workers.models import PointsEntry

CONFIDENCE_BINS = 10
CLASS_KINDS = ("classification", "moderation")
DASHBOARD_WORK_MEM = "32MB"
ANSWER_WINDOW_HOURS = 48
STATES = [TaskState.OPEN, TaskState.ACCEPTED, TaskState.REVIEW, TaskState.REJECTED]
FAILED_LISTED = 20  # tasks named in the dashboard's list of scoring failures


def _tasks(project: Project):
    return Task.objects.filter(project=project, is_gold=False)


def _answers(project: Project):
    return Annotation.objects.filter(task__project=project)


def _bucket_kind(start: datetime | None, end: datetime) -> str:
    span = end - (start or end)
    if span <= timedelta(hours=48):
        return "hour"
    return "day" if span <= timedelta(days=120) else "week"


def progress_over_time(*, project: Project) -> dict:
    """Cumulative tasks by state at the end of each hour (or day, or week, for long projects)."""
    now = timezone.now()
    start = _tasks(project).aggregate(first=Min("created_at"))["first"]
    kind = _bucket_kind(start, now)
    created = dict(
        _tasks(project)
        .annotate(at=Trunc("created_at", kind))
        .values("at")
        .annotate(n=Count("id"))
        .values_list("at", "n")
    )
    settled_at = Coalesce("decided_at", "consensus__updated_at", "created_at")
    settled = (
        _tasks(project)
        .exclude(state=TaskState.OPEN)
        .annotate(at=Trunc(settled_at, kind))
        .values("at", "state")
        .annotate(n=Count("id"))
        .values_list("at", "state", "n")
    )
    return {"bucket": kind, "points": _cumulate(created, list(settled))}


def _cumulate(created: dict, settled: list[tuple]) -> list[dict]:
    times = sorted(set(created) | {at for at, _, _ in settled})
    by_time: dict = {}
    for at, state, n in settled:
        by_time.setdefault(at, {})[state] = n
    totals = dict.fromkeys(["total", *STATES[1:]], 0)
    points = []
    for at in times:
        totals["total"] += created.get(at, 0)
        for state, n in by_time.get(at, {}).items():
            totals[state] += n
        closed = sum(totals[s] for s in STATES[1:])
        row = {"at": at.isoformat(), TaskState.OPEN: totals["total"] - closed}
        points.append(row | {s: totals[s] for s in STATES[1:]})
    return points


def answers_per_hour(*, project: Project, hours: int = ANSWER_WINDOW_HOURS) -> list[dict]:
    """Answers submitted in each of the last ``hours`` hours (empty hours included)."""
    since = _hour_window(hours)[0]
    counts = dict(
        _answers(project)
        .filter(created_at__gte=since)
        .annotate(at=Trunc("created_at", "hour"))
        .values("at")
        .annotate(n=Count("id"))
        .values_list("at", "n")
    )
    return _hours_filled(counts, hours)


def _hour_window(hours: int = ANSWER_WINDOW_HOURS) -> list[datetime]:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    return [now - timedelta(hours=hours - 1 - i) for i in range(hours)]


def _hours_filled(counts: dict, hours: int = ANSWER_WINDOW_HOURS) -> list[dict]:
    return [{"at": at.isoformat(), "answers": counts.get(at, 0)} for at in _hour_window(hours)]


def confidence_histogram(*, project: Project) -> list[dict]:
    """How many tasks have a consensus confidence in each tenth of [0, 1]."""
    index = Least(Floor(F("consensus__confidence") * CONFIDENCE_BINS), CONFIDENCE_BINS - 1)
    counts = (
        _tasks(project)
        .filter(consensus__isnull=False)
        .annotate(bin=Cast(index, FloatField()))
        .values("bin")
        .annotate(n=Count("id"))
        .values_list("bin", "n")
    )
    return _bins({int(b): n for b, n in counts})


def label_agreement(*, project: Project) -> dict:
    """Which labels are confused with which: for accepted tasks, the accepted class (rows)
    against each worker's answer (columns). For boxes and polygons, the mean agreement (F1)
    of the answers on tasks accepted with each label in their first shape."""
    accepted = _answers(project).filter(task__state=TaskState.ACCEPTED, task__is_gold=False)
    if project.kind in CLASS_KINDS:
        key = "label" if project.kind == "classification" else "verdict"
        cells = (
            accepted.values(
                truth=KeyTextTransform(key, "task__accepted_label"),
                answer=KeyTextTransform(key, "payload"),
            )
            .annotate(n=Count("id"))
            .values_list("truth", "answer", "n")
        )
        return _matrix(project, cells)
    shapes = "boxes" if project.kind == "bbox" else "polygons"
    rows = (
        accepted.values(label=_first_shape_label(shapes))
        .annotate(answers=Count("id"), agreement=Avg("agreement"))
        .values_list("label", "answers", "agreement")
    )
    by_label = {label: {"answers": n, "agreement": mean} for label, n, mean in rows if label}
    return {"kind": "by_label", "labels": project.label_names, "rows": by_label}


def _matrix(project: Project, cells) -> dict:
    labels = project.label_names if project.kind == "classification" else ["safe", "unsafe"]
    matrix = {t: dict.fromkeys(labels, 0) for t in labels}
    for truth, answer, n in cells:
        if truth in matrix and answer in matrix[truth]:
            matrix[truth][answer] = n
    return {"kind": "matrix", "labels": labels, "rows": matrix}


def _first_shape_label(shapes: str) -> KeyTextTransform:
    first = KeyTransform("0", KeyTransform(shapes, "task__accepted_label"))
    return KeyTextTransform("label", first)


def gold_accuracy(*, project: Project) -> dict:
    """How the crowd does on gold tasks: graded answers, mean grade, share passing."""
    graded = Annotation.objects.filter(
        task__project=project, task__is_gold=True, gold_grade__isnull=False
    )
    figures = graded.aggregate(
        answers=Count("id"),
        mean=Avg("gold_grade"),
        passed=Count("id", filter=Q(gold_grade__gte=0.5)),
    )
    figures["share_passed"] = figures["passed"] / figures["answers"] if figures["answers"] else None
    return figures


def _points_paid(project: Project) -> int:
    paid = PointsEntry.objects.filter(annotation__task__project=project)
    return paid.aggregate(total=Sum("points"))["total"] or 0


def points_cost(*, project: Project) -> dict:
    """Points paid for the project's answers, and per accepted label."""
    return _cost(project, _tasks(project).filter(state=TaskState.ACCEPTED).count())


def _cost(project: Project, accepted: int) -> dict:
    """Points paid, and points and people's answers per accepted label (a model's votes are
    predictions, not answers: never counted)."""
    paid = _points_paid(project)
    answers = _answers(project).filter(task__is_gold=False, task__state=TaskState.ACCEPTED)
    people = answers.count()
    return {
        "points": paid,
        "accepted": accepted,
        "per_label": paid / accepted if accepted else None,
        "answers_per_label": people / accepted if accepted else None,
    }


def scoring_failures(*, project: Project) -> dict:
    """Answers whose scoring failed for good (quarantined after SCORE_MAX_ATTEMPTS): how many,
    on how many tasks, and the first ``FAILED_LISTED`` of those tasks (gold ones included)."""
    rows = (
        _answers(project)
        .filter(score_state=ScoreState.FAILED)
        .values("task_id", "task__is_gold")
        .annotate(n=Count("id"))
        .values_list("task_id", "task__is_gold", "n")
        .order_by()
    )
    return _failures(list(rows))


def _failures(rows: list[tuple]) -> dict:
    """(task, is_gold, failed answers) rows into the dashboard's figure, tasks in id order."""
    rows = sorted(rows, key=lambda row: str(row[0]))
    listed = [{"task": str(t), "gold": gold, "answers": n} for t, gold, n in rows[:FAILED_LISTED]]
    return {"answers": sum(n for _, _, n in rows), "tasks": len(rows), "listed": listed}


def state_counts(*, project: Project) -> dict:
    counts = dict(_tasks(project).values("state").annotate(n=Count("id")).values_list("state", "n"))
    return {state: counts.get(state, 0) for state in STATES}


def export_health(*, project: Project) -> dict | None:
    """The health report of the project's latest ready export, as its Export row stored it from
    the manifest (read through the project's reverse relation: consensus does not import the
    exports app); None before the first export."""
    latest = project.exports.filter(state="ready").order_by("-version")  # type: ignore[attr-defined]
    fields = ("version", "format", "health", "counts__images", "identical_to")
    return latest.values(*fields).first()


def dashboard_figures(*, project: Project) -> dict:
    """Every figure of the project dashboard, as plain JSON-ready data.

    On PostgreSQL the task figures come from one scan of the tasks and the answer figures from
    one scan of the answers (GROUPING SETS), rather than one query per figure."""
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:  # room to group in memory, not on disk
                cursor.execute(f"SET LOCAL work_mem = '{DASHBOARD_WORK_MEM}'")
            figures = _task_figures_pg(project) | _answer_figures_pg(project)
    else:
        figures = {
            "states": state_counts(project=project),
            "progress": progress_over_time(project=project),
            "confidence": confidence_histogram(project=project),
            "answers_per_hour": answers_per_hour(project=project),
            "gold": gold_accuracy(project=project),
            "score_failed": scoring_failures(project=project),
        }
    if "agreement" not in figures:
        figures["agreement"] = label_agreement(project=project)
    figures["cost"] = _cost(project, figures["states"][TaskState.ACCEPTED])
    figures["export_health"] = export_health(project=project)
    return {
        "project": {"id": str(project.pk), "name": project.name, "kind": project.kind},
        "generated_at": timezone.now().isoformat(),
        **figures,
    }


TASK_FIGURES_SQL = """
SELECT GROUPING(state), GROUPING(bin), GROUPING(created), GROUPING(settled),
       state, bin, created, settled, COUNT(*)
FROM (
    SELECT t.state,
           CASE WHEN c.id IS NOT NULL THEN LEAST(FLOOR(c.confidence * %(bins)s), %(bins)s - 1) END AS bin,
           date_trunc('hour', t.created_at) AS created,
           CASE WHEN t.state <> 'open' THEN
               date_trunc('hour', COALESCE(t.decided_at, c.updated_at, t.created_at)) END AS settled
    FROM annotations_task t LEFT JOIN consensus_consensusresult c ON c.task_id = t.id
    WHERE t.project_id = %(project)s AND NOT t.is_gold
) tasks
GROUP BY GROUPING SETS ((state), (bin), (created), (settled, state))
"""


def _task_figures_pg(project: Project) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(TASK_FIGURES_SQL, {"project": project.pk, "bins": CONFIDENCE_BINS})
        rows = cursor.fetchall()
    states, bins, created, settled = dict.fromkeys(STATES, 0), {}, {}, []
    for g_state, g_bin, g_created, g_settled, state, bin_, at, settled_at, n in rows:
        if not g_settled and settled_at is not None:
            settled.append((settled_at, state, n))
        elif not g_state and g_settled:
            states[state] = n
        elif not g_bin and bin_ is not None:
            bins[int(bin_)] = n
        elif not g_created:
            created[at] = n
    return {
        "states": states,
        "progress": _progress_from_hours(created, settled),
        "confidence": _bins(bins),
    }


def _progress_from_hours(created: dict, settled: list[tuple]) -> dict:
    """Roll hourly counts up to the bucket the project's age calls for (as Trunc would)."""
    kind = _bucket_kind(min(created, default=None), timezone.now())
    rolled_created: dict = {}
    for at, n in created.items():
        key = _truncate(at, kind)
        rolled_created[key] = rolled_created.get(key, 0) + n
    rolled_settled: dict = {}
    for at, state, n in settled:
        key = (_truncate(at, kind), state)
        rolled_settled[key] = rolled_settled.get(key, 0) + n
    rows = [(at, state, n) for (at, state), n in rolled_settled.items()]
    return {"bucket": kind, "points": _cumulate(rolled_created, rows)}


def _truncate(at: datetime, kind: str) -> datetime:
    if kind == "hour":
        return at
    day = at.replace(hour=0)
    return day if kind == "day" else day - timedelta(days=day.weekday())


def _bins(counts: dict) -> list[dict]:
    width = 1 / CONFIDENCE_BINS
    return [
        {"low": round(i * width, 2), "high": round((i + 1) * width, 2), "tasks": counts.get(i, 0)}
        for i in range(CONFIDENCE_BINS)
    ]


ANSWER_FIGURES_SQL = """
SELECT GROUPING(hour), GROUPING(truth, answer), GROUPING(failed_task),
       hour, truth, answer, failed_task, is_gold, COUNT(*),
       COUNT(*) FILTER (WHERE is_gold AND gold_grade IS NOT NULL),
       COUNT(*) FILTER (WHERE is_gold AND gold_grade >= %(pass)s),
       AVG(gold_grade) FILTER (WHERE is_gold)
FROM (
    SELECT CASE WHEN a.created_at >= %(since)s THEN date_trunc('hour', a.created_at) END AS hour,
           CASE WHEN %(classes)s AND t.state = 'accepted' AND NOT t.is_gold
                THEN t.accepted_label ->> %(key)s END AS truth,
           CASE WHEN %(classes)s AND t.state = 'accepted' AND NOT t.is_gold
                THEN a.payload ->> %(key)s END AS answer,
           CASE WHEN a.score_state = %(failed)s THEN a.task_id END AS failed_task,
           t.is_gold, a.gold_grade
    FROM annotations_annotation a JOIN annotations_task t ON t.id = a.task_id
    WHERE t.project_id = %(project)s
) answers
GROUP BY GROUPING SETS ((hour), (truth, answer), (failed_task, is_gold), ())
"""


def _answer_figures_pg(project: Project) -> dict:
    since = _hour_window()[0]
    classes = project.kind in CLASS_KINDS
    key = "label" if project.kind == "classification" else "verdict"
    params = {
        "project": project.pk,
        "since": since,
        "classes": classes,
        "key": key,
        "pass": 0.5,
        "failed": ScoreState.FAILED.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(ANSWER_FIGURES_SQL, params)
        rows = cursor.fetchall()
    hours, cells, gold, failed = {}, [], {}, []
    for g_hour, g_pair, g_failed, hour, truth, answer, task, is_gold, n, *graded in rows:
        if not g_failed:  # one row per task with failed answers (and one for all the rest)
            if task is not None:
                failed.append((task, is_gold, n))
        elif not g_hour and hour is not None:
            hours[hour] = n
        elif not g_pair and truth is not None:
            cells.append((truth, answer, n))
        elif g_hour and g_pair:
            gold = dict(zip(("answers", "passed", "mean"), graded, strict=True))
    gold["share_passed"] = gold["passed"] / gold["answers"] if gold["answers"] else None
    figures = {"answers_per_hour": _hours_filled(hours), "gold": gold}
    figures["score_failed"] = _failures(failed)
    if classes:
        figures["agreement"] = _matrix(project, cells)
    return figures
