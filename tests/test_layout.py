"""The floor plan, checked over the source: a Task's state, label and counters are written only in
`annotations` (its transitions live in annotations/services/task_states.py); other apps decide
and call those functions."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OTHER_APPS = ("consensus", "workers", "exports", "frontend", "sebenzai")
TASK_FIELDS = {
    "state",
    "accepted_label",
    "confidence",
    "decided_at",
    "target_redundancy",
    "slots_taken",
    "answers_count",
}


def _sources(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def _names_a_task(node: ast.AST) -> bool:
    """``task``, ``self.task``, ``result.task``…: an expression that reads as a Task."""
    if isinstance(node, ast.Name):
        return "task" in node.id.lower()
    return isinstance(node, ast.Attribute) and node.attr == "task"


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def task_writes(path: Path) -> list[str]:
    """Assignments to a task's fields, and Task querysets' update()/bulk_update() of them."""
    found, where = [], path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets = []
        if isinstance(node, ast.Assign):
            targets = [t for target in node.targets for t in ast.walk(target)]
        elif isinstance(node, ast.AugAssign):
            targets = [node.target]
        found += [
            f"{where}:{node.lineno}"
            for target in targets
            if isinstance(target, ast.Attribute)
            and target.attr in TASK_FIELDS
            and _names_a_task(target.value)
        ]
        is_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if (
            is_call
            and node.func.attr in ("update", "bulk_update")
            and _root_name(node.func) == "Task"
        ):
            found.append(f"{where}:{node.lineno}")
    return found


def test_no_code_outside_annotations_writes_a_tasks_state_or_counters():
    writes = [w for app in OTHER_APPS for path in _sources(app) for w in task_writes(path)]
    assert writes == []


def test_the_check_finds_a_write_when_there_is_one(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "task.state = 'accepted'\nself.task.slots_taken -= 1\n"
        "Task.objects.filter(pk=1).update(state='review')\n"
    )
    assert len(task_writes(sample)) == 3


def _imports(path: Path) -> set[str]:
    """The top-level packages a module imports (absolute imports; relative ones stay inside)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _importers(app: str, forbidden: set[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}: {sorted(_imports(path) & forbidden)}"
        for path in _sources(app)
        if _imports(path) & forbidden
    ]


def test_the_pure_algorithms_import_no_django():
    assert _importers("consensus/algorithms", {"django", "rest_framework", "celery"}) == []


def test_annotations_never_imports_consensus_or_exports():
    assert _importers("annotations", {"consensus", "exports"}) == []


def test_nothing_in_the_product_imports_the_pages_or_the_development_tools():
    product = ("annotations", "consensus", "workers", "exports", "sebenzai")
    assert [i for app in product for i in _importers(app, {"frontend", "devtools"})] == []
