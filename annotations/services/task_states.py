"""Every change of a task's state, label, confidence or counters outside leasing and answering:
the one place that writes them, so the invariants live beside the model they protect.

    open ──accept──▶ accepted ──(batch: the crowd now says otherwise)──▶ review
      │ ╰─raise target (one more answer wanted, up to redundancy_max)
      │ ╰─lower target (a credible model voted: fewer people wanted)
      ├──accept by model (auto-accept; or marked as an audit, for people)
      ╰──send to review──▶ review ──settle (an admin)──▶ accepted | rejected
                             ▲                                   │
                             ╰──────── reopen (an admin's undo) ─╯
    a blocked worker's answer uncounted: accepted stays, review → open

Locks. Each single-task transition is called with the task's row lock held (``select_for_update``
by the caller: consensus scoring, the review decision, blocking), because the state decided on
was read under it. ``slots_taken`` and ``answers_count`` only move under that lock (the check
constraint ``task_slots_within_target`` refuses an over-count anyway). The two bulk transitions
of the batch re-score take rows by id and re-check the state in the same statement.

Consensus decides; these functions only record what it decided.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, FloatField, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from ..models import Task, TaskState

DOUBT_BATCH = 500  # tasks per UPDATE: one CASE branch each


def task_accept(*, task: Task, label: dict, confidence: float) -> None:
    """Open → accepted with the crowd's fused label. Caller holds the task row lock."""
    task.state, task.accepted_label = TaskState.ACCEPTED, label
    task.confidence, task.decided_at = confidence, timezone.now()
    task.save(update_fields=["state", "accepted_label", "confidence", "decided_at"])


def task_accept_by_model(*, task: Task, label: dict, confidence: float) -> None:
    """Open → accepted with a credible model's prediction, no people asked (auto-accept); the
    export says so. Caller holds the task row lock."""
    task.model_audit, task.accepted_by_model = False, True
    task.save(update_fields=["model_audit", "accepted_by_model"])
    task_accept(task=task, label=label, confidence=confidence)


def task_mark_audit(*, task: Task) -> None:
    """Drawn as an audit of the model: people decide it, without the model's vote. Caller holds
    the task row lock."""
    task.model_audit = True
    task.save(update_fields=["model_audit"])


def task_raise_target(*, task: Task) -> None:
    """Ask for one more answer (the caller checked redundancy_max). Caller holds the lock."""
    task.target_redundancy += 1
    task.save(update_fields=["target_redundancy"])


def task_lower_target(*, task: Task, target: int) -> None:
    """Fewer answers wanted: a credible model's vote stands in for people. Never below the slots
    already taken (``task_slots_within_target``) nor below one answer. Caller holds the lock."""
    task.target_redundancy = max(target, task.slots_taken, 1)
    task.save(update_fields=["target_redundancy"])


def task_send_to_review(*, task: Task, confidence: float) -> None:
    """Open → review: the crowd could not settle it. Caller holds the task row lock."""
    task.state, task.confidence = TaskState.REVIEW, confidence
    task.save(update_fields=["state", "confidence"])


def task_settle(*, task: Task, label: dict | None, confidence: float | None) -> None:
    """An admin's decision: accepted with ``label``, or rejected (no label: the image is
    unusable). A person decided, whatever a model did before, so the export no longer counts it
    as accepted by a model. Caller holds the task row lock."""
    task.state = TaskState.ACCEPTED if label is not None else TaskState.REJECTED
    task.accepted_label, task.confidence, task.decided_at = label, confidence, timezone.now()
    task.accepted_by_model = False
    fields = ["state", "accepted_label", "confidence", "decided_at", "accepted_by_model"]
    task.save(update_fields=fields)


def task_reopen_for_review(*, task: Task, confidence: float | None) -> None:
    """An admin's undo: back to review, no label, the crowd's confidence. Caller holds the lock."""
    task.state, task.accepted_label = TaskState.REVIEW, None
    task.confidence, task.decided_at = confidence, None
    task.save(update_fields=["state", "accepted_label", "confidence", "decided_at"])


def task_answer_uncount(*, task: Task) -> None:
    """A blocked worker's answer stops counting: its slot is freed for another worker and the
    task is open again (it was open or in review). Caller holds the task row lock."""
    task.answers_count -= 1
    task.slots_taken -= 1
    task.state = TaskState.OPEN
    task.save(update_fields=["answers_count", "slots_taken", "state"])


def tasks_confidence_set(*, confidences: dict[object, float]) -> None:
    """Store the confidences the batch re-score recomputed for these decided tasks, by id."""
    rows = [Task(pk=pk, confidence=value) for pk, value in confidences.items()]
    Task.objects.bulk_update(rows, ["confidence"], batch_size=1000)


def tasks_reopen_accepted(*, task_ids: Iterable[object]) -> list[object]:
    """Accepted → review for tasks the whole project's evidence now contradicts; a task no
    longer accepted (an admin got there first) is left alone. Returns the ids moved."""
    moved = list(
        Task.objects.filter(pk__in=list(task_ids), state=TaskState.ACCEPTED).values_list(
            "pk", flat=True
        )
    )
    Task.objects.filter(pk__in=moved, state=TaskState.ACCEPTED).update(state=TaskState.REVIEW)
    return moved


def tasks_doubt_set(*, doubts: dict[object, float]) -> None:
    """Record how unsure a model is of each task; where several models predicted it, the most
    unsure one's doubt stays. A figure for ordering the work, not a counter: no lock needed."""
    items = list(doubts.items())
    for start in range(0, len(items), DOUBT_BATCH):
        batch = dict(items[start : start + DOUBT_BATCH])
        given = Case(
            *(When(pk=pk, then=Value(d)) for pk, d in batch.items()), output_field=FloatField()
        )
        Task.objects.filter(pk__in=batch).update(
            model_doubt=Greatest(Coalesce("model_doubt", Value(0.0)), given)
        )


def tasks_propose(*, proposals: dict[object, dict]) -> None:
    """Record each task's proposal for pre-labelling (the latest model's stays). Like the
    doubt, a figure and not a counter: no lock needed."""
    rows = [Task(pk=pk, proposal=proposal) for pk, proposal in proposals.items()]
    Task.objects.bulk_update(rows, ["proposal"], batch_size=DOUBT_BATCH)
