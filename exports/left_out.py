"""The tasks an export cannot hold yet — still open, or waiting in review for an admin — counted
by state and, where consensus already has a label for them, by class. Without these counts a
training set silently lacks them (in a trial, 10–12 % of box and polygon tasks), and the classes
that are hard to agree on are the ones most often missing.

The count is read just before the export's rows: a task decided in between is counted here and
may also be exported; the numbers describe the project at the start of the export.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from annotations.models import Project, TaskState

from .records import ProjectInfo, class_names
from .selectors import task_labels_left_out
from .shapes import shapes_read

LEFT_OUT_STATES = (TaskState.OPEN.value, TaskState.REVIEW.value)


def left_out_count(
    *, project: Project, info: ProjectInfo, exported_states: Iterable[str]
) -> dict[str, Any]:
    """Per undecided state that the export does not hold: its tasks, those consensus has no
    label for yet, and per class the tasks whose current label holds it."""
    states = [s for s in LEFT_OUT_STATES if s not in set(exported_states)]
    classes = class_names(info)
    counts: dict[str, Any] = {
        state: {"tasks": 0, "no_label_yet": 0, "tasks_by_label": dict.fromkeys(classes, 0)}
        for state in states
    }
    for state, label in task_labels_left_out(project=project, states=states):
        entry = counts[state]
        entry["tasks"] += 1
        if label is None:
            entry["no_label_yet"] += 1
            continue
        for name in label_classes(info.kind, label) & entry["tasks_by_label"].keys():
            entry["tasks_by_label"][name] += 1
    return counts


def label_classes(kind: str, label: Any) -> set[str]:
    """The classes a label holds: its shapes' labels, its class, or its moderation verdict."""
    if kind in ("bbox", "polygon"):
        return {shape.label for shape in shapes_read(kind, label)[0]}
    key = "verdict" if kind == "moderation" else "label"
    value = label.get(key) if isinstance(label, dict) else None
    return {value} if isinstance(value, str) else set()
