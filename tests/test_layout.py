"""The floor plan, checked over the source: a Task's state, label and counters are written only in
`annotations` (its transitions live in annotations/services/task_states.py); other apps decide
and call those functions."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OTHER_APPS = (
    "accounts",
    "consensus",
    "workers",
    "exports",
    "predictions",
    "frontend",
    "devtools",
    "sebenzai",
)
TASK_FIELDS = {
    "state",
    "accepted_label",
    "confidence",
    "decided_at",
    "target_redundancy",
    "slots_taken",
    "answers_count",
    "model_audit",
    "accepted_by_model",
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


def test_annotations_never_imports_the_apps_above_it():
    assert _importers("annotations", {"workers", "consensus", "exports", "predictions"}) == []


def test_accounts_import_no_other_app():
    apps = {"annotations", "workers", "consensus", "exports", "predictions", "frontend", "devtools"}
    assert _importers("accounts", apps) == []


def test_nothing_in_the_product_imports_the_pages_or_the_development_tools():
    product = (
        "accounts",
        "annotations",
        "consensus",
        "workers",
        "exports",
        "predictions",
        "sebenzai",
    )
    assert [i for app in product for i in _importers(app, {"frontend", "devtools"})] == []


# --- import cycles ------------------------------------------------------------------------------
APPS = (
    "accounts",
    "annotations",
    "exports",
    "predictions",
    "consensus",
    "workers",
    "frontend",
    "devtools",
)


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the product, by dotted name: (its file, whether it is a package)."""
    found = {}
    for app in (*APPS, "sebenzai"):
        for path in _sources(app):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _load_time_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The imports run when a module is loaded: its body and the blocks in it, not functions
    (an import inside a function runs later, once every module is loaded)."""
    found, stack = [], list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.ClassDef):
            stack.extend(node.body)
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for field in ("body", "orelse", "finalbody", "handlers"):
                stack.extend(getattr(node, field, None) or [])
    return found


def _targets(node: ast.Import | ast.ImportFrom, package: str, known: set[str]) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & known
    base = package.split(".")[: len(package.split(".")) - max(node.level - 1, 0)]
    module = ".".join(base + [node.module or ""]).strip(".") if node.level else node.module
    names = {f"{module}.{alias.name}" for alias in node.names}
    return (names & known) or ({module} & known)


def module_graph() -> dict[str, set[str]]:
    """Module -> the product's modules it imports as it loads."""
    modules = _modules()
    graph = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(), str(path))
        found = set().union(*(_targets(n, package, set(modules)) for n in _load_time_imports(tree)))
        graph[name] = found - {name}
    return graph


def room(module: str) -> str:
    """An app, or one of the project's own modules: sebenzai/ holds both the wiring on top
    (urls) and what every app uses below it (common, jobs, celery), so each is a room."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "sebenzai" else parts[0]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = []
            while not part or part[-1] != node:
                part.append(stack.pop())
            if len(part) > 1:
                found.append(sorted(part))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_others():
    assert cycles(module_graph()) == []


def test_no_app_imports_itself_through_others():
    rooms: dict[str, set[str]] = {}
    for module, imported in module_graph().items():
        rooms.setdefault(room(module), set()).update(room(m) for m in imported)
    assert cycles({r: others - {r} for r, others in rooms.items()}) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
