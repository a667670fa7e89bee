"""Marking tasks as gold (known-answer) tasks."""

from __future__ import annotations

from django.db import transaction

from sebenzai.common.errors import DomainError

from ..models import Project, Task, TaskState
from ..payloads import payload_validate
from .submissions import rules_for


@transaction.atomic
def gold_set(*, project: Project, items: list[dict]) -> list[Task]:
    """Give each listed task its known answer. All or nothing: one bad item refuses the lot.

    A task that already has answers from the crowd cannot become gold (those workers would be
    graded against an answer they never saw as a test), nor can a decided one.
    """
    ids = [item["task"] for item in items]
    tasks = {
        t.pk: t
        for t in Task.objects.select_for_update()
        .select_related("project")
        .filter(project=project, pk__in=ids)
    }
    updated = []
    for index, item in enumerate(items):
        field = f"gold[{index}]"
        task = tasks.get(item["task"])
        if task is None:
            raise DomainError(
                code="unknown_task", field=f"{field}.task", message="No such task in this project."
            )
        if task.answers_count or task.slots_taken or task.state != TaskState.OPEN:
            message = (
                "This task already has answers or a decision; gold must be set before work starts."
            )
            raise DomainError(code="task_in_progress", field=f"{field}.task", message=message)
        task.gold_answer = payload_validate(
            item["answer"], rules_for(task), field=f"{field}.answer"
        )
        task.is_gold = True
        updated.append(task)
    Task.objects.bulk_update(updated, ["gold_answer", "is_gold"])
    return updated
