"""What a worked project measures, against the truth the benchmark kept aside.

- answers per accepted label: people's answers on ordinary tasks (gold left out, review and
  still-open tasks' answers in: that work was spent too) over the ordinary tasks accepted;
- accuracy of the accepted labels: for classes the share equal to the truth; for boxes F1 at
  IoU 0.5 (labels must match; matched, predicted and true boxes summed over the accepted images
  before the ratio) and the mean IoU of the matched boxes;
- corrections: the ordinary tasks whose model prediction was wrong (for boxes: its vote, the
  shapes scored at least MODEL_MIN_SCORE, is not an exact match of the truth at IoU 0.5) and
  that people settled: accepted with the true label (boxes: F1 1 against the truth).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from django.db.models import Count

from annotations.models import Annotation, Task, TaskState
from consensus.algorithms.clusters import match_pairs
from consensus.algorithms.geometry import iou_matrix
from predictions.payloads import vote_part

from .scenario import Scenario

IOU = 0.5


def box_match(answer: list[dict], truth: list[dict]) -> tuple[int, list[float]]:
    """Boxes of ``answer`` paired one-to-one with the true boxes (same label, IoU ≥ 0.5, greedy
    by IoU): how many pairs, and their IoUs."""
    a = np.asarray([b["bbox"] for b in answer], dtype=float).reshape(-1, 4)
    b = np.asarray([b["bbox"] for b in truth], dtype=float).reshape(-1, 4)
    iou = iou_matrix(a, b)
    same = np.array([[x["label"] == y["label"] for y in truth] for x in answer], dtype=bool)
    rows, cols = match_pairs(iou, same.reshape(iou.shape), IOU)
    return len(rows), iou[rows, cols].tolist()


def label_right(kind: str, label: dict, truth: dict) -> bool:
    if kind == "classification":
        return label["label"] == truth["label"]
    matched, _ = box_match(label["boxes"], truth["boxes"])
    return matched == len(label["boxes"]) == len(truth["boxes"])


def _ordinary(scenario: Scenario) -> list[dict]:
    tasks = Task.objects.filter(project=scenario.project, is_gold=False)
    return list(tasks.values("pk", "state", "accepted_label"))


def _answers(scenario: Scenario) -> Counter:
    rows = Annotation.objects.filter(task__project=scenario.project).values("task__is_gold")
    return Counter({r["task__is_gold"]: r["n"] for r in rows.annotate(n=Count("id"))})


def _accuracy(scenario: Scenario, accepted: list[dict]) -> dict:
    kind = scenario.project.kind
    if not accepted:
        return {"accuracy": None, "mean_iou": None}
    if kind == "classification":
        right = sum(
            label_right(kind, t["accepted_label"], scenario.truth[t["pk"]]) for t in accepted
        )
        return {"accuracy": right / len(accepted), "mean_iou": None}
    matched = drawn = true = 0
    ious: list[float] = []
    for task in accepted:
        boxes, truth = task["accepted_label"]["boxes"], scenario.truth[task["pk"]]["boxes"]
        pairs, pair_ious = box_match(boxes, truth)
        matched, drawn, true = matched + pairs, drawn + len(boxes), true + len(truth)
        ious += pair_ious
    f1 = 2 * matched / (drawn + true) if drawn + true else 1.0
    return {"accuracy": f1, "mean_iou": float(np.mean(ious)) if ious else None}


def project_figures(scenario: Scenario) -> dict:
    """Answers, decisions and accuracy of a project the crowd has finished with."""
    tasks = _ordinary(scenario)
    states = Counter(t["state"] for t in tasks)
    accepted = [t for t in tasks if t["state"] == TaskState.ACCEPTED]
    answers = _answers(scenario)
    return {
        "tasks": len(tasks),
        "answers": answers[False],
        "gold_answers": answers[True],
        "accepted": len(accepted),
        "review": states[TaskState.REVIEW],
        "open": states[TaskState.OPEN],
        "answers_per_label": answers[False] / len(accepted) if accepted else None,
        "accepted_share": len(accepted) / len(tasks),
        "review_share": states[TaskState.REVIEW] / len(tasks),
        **_accuracy(scenario, accepted),
    }


def corrections(scenario: Scenario) -> dict:
    """How many of the model's wrong predictions on ordinary tasks people reached and settled."""
    kind = scenario.project.kind
    tasks = {t["pk"]: t for t in _ordinary(scenario)}
    wrong = [
        pk
        for pk in tasks
        if not label_right(kind, vote_part(scenario.predictions[pk]), scenario.truth[pk])
    ]
    answered = set(
        Annotation.objects.filter(task_id__in=wrong).values_list("task_id", flat=True).distinct()
    )
    fixed = [
        pk
        for pk in wrong
        if tasks[pk]["state"] == TaskState.ACCEPTED
        and label_right(kind, tasks[pk]["accepted_label"], scenario.truth[pk])
    ]
    return {"wrong": len(wrong), "reached": len(answered), "corrected": len(fixed)}
