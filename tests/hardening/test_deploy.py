"""What a deployment must never expose: a file outside the static folder reached by a path that
climbs out of it, and code that unpickles or evaluates what it reads (docs/reliability.md K1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CANARY = b"CANARY-not-for-the-web-7d41"

# Each lands on a canary when joined naively to the static or media folder, the way a
# mis-written proxy rule (``location /static { alias /srv/static/; }``) would.
TRAVERSALS = [
    "/static../sebenzai/settings.py",
    "/static/../manage.py",
    "/static/%2e%2e/manage.py",
    "/static/%2e%2e%2fmanage.py",
    "/static/..%2fmanage.py",
    "/static/..%5cmanage.py",
    "/static//../manage.py",
    "/static/probe.css/../../manage.py",
    "/media/../manage.py",
    "/media/%2e%2e/manage.py",
]


@pytest.fixture
def static_beside_canaries(settings, tmp_path) -> None:
    """A STATIC_ROOT holding one file, with canaries named like the repo's manage.py and
    settings.py exactly where each traversal lands (MEDIA_ROOT is ``tmp_path/media``)."""
    static = tmp_path / "static"
    static.mkdir()
    (static / "probe.css").write_text("body { margin: 0 }")
    (tmp_path / "manage.py").write_bytes(CANARY)
    (tmp_path / "sebenzai").mkdir()
    (tmp_path / "sebenzai" / "settings.py").write_bytes(CANARY)
    settings.STATIC_ROOT = str(static)


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("autorefresh", [False, True], ids=["production", "autorefresh"])
@pytest.mark.parametrize("path", TRAVERSALS)
def test_a_path_climbing_out_of_the_static_or_media_folder_is_a_404(
    client, settings, static_beside_canaries, path, autorefresh
):
    # given static files really are served (whitenoise, which reads its settings on the first
    # request of this fresh client), in production mode and in the mode that looks files up
    # at request time
    settings.WHITENOISE_AUTOREFRESH = autorefresh
    assert _body(client.get("/static/probe.css")) == b"body { margin: 0 }"
    # when a path climbs out of the folder
    response = client.get(path)
    # then it is not found, and no file's content comes back
    body = _body(response)
    assert response.status_code == 404, body[:200]
    assert CANARY not in body
    for name in ("manage.py", "sebenzai/settings.py"):
        assert (ROOT / name).read_bytes()[:200] not in body


# --- static scan: nothing unpickles or evaluates what it reads ---------------------------------

SKIPPED_DIRS = {".venv", "var", "node_modules", ".git"}
# (module, function): each runs code chosen by whoever wrote the bytes it reads.
UNSAFE_LOADERS = {
    ("pickle", "load"),
    ("pickle", "loads"),
    ("pickle", "Unpickler"),
    ("dill", "load"),
    ("dill", "loads"),
    ("cloudpickle", "load"),
    ("cloudpickle", "loads"),
    ("joblib", "load"),
    ("marshal", "load"),
    ("marshal", "loads"),
    ("shelve", "open"),
    ("torch", "load"),
    ("pandas", "read_pickle"),
    ("yaml", "unsafe_load"),
    ("yaml", "full_load"),
}
SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader"}


def _imported_names(tree: ast.Module) -> dict[str, tuple[str, str | None]]:
    """Local name -> (module, attribute) for ``import m as x`` and ``from m import f as g``."""
    names: dict[str, tuple[str, str | None]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                names[alias.asname or top] = (top, None)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = (node.module.split(".")[0], alias.name)
    return names


def _callee(func: ast.expr, names: dict) -> tuple[str, str] | None:
    """The (module, function) a call goes to, as far as the file's own imports say."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        module = names.get(func.value.id, (func.value.id, None))
        return (module[0], func.attr) if module[1] is None else None
    if isinstance(func, ast.Name):
        if func.id in names and names[func.id][1] is not None:
            return names[func.id][0], names[func.id][1]
        return "builtins", func.id
    return None


def _loader_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


def _unsafe(call: ast.Call, names: dict) -> bool:
    callee = _callee(call.func, names)
    if any(k.arg == "allow_pickle" and getattr(k.value, "value", False) for k in call.keywords):
        return True
    if callee is None:
        return False
    if callee in UNSAFE_LOADERS:
        return True
    if callee in {("yaml", "load"), ("yaml", "load_all")}:
        loaders = [k.value for k in call.keywords if k.arg == "Loader"] + call.args[1:2]
        return not any(_loader_name(loader) in SAFE_YAML_LOADERS for loader in loaders)
    if callee in {("builtins", "eval"), ("builtins", "exec")}:
        return not (call.args and isinstance(call.args[0], ast.Constant))
    return False


def unsafe_calls(source: str, filename: str = "<snippet>") -> list[str]:
    """``file:line: code`` for every call that unpickles, loads YAML unsafely or evaluates a
    value that is not a literal."""
    tree = ast.parse(source, filename)
    names = _imported_names(tree)
    return [
        f"{filename}:{node.lineno}: {ast.unparse(node)[:120]}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _unsafe(node, names)
    ]


def _python_files() -> list[Path]:
    return sorted(
        path for path in ROOT.rglob("*.py") if not SKIPPED_DIRS & set(path.relative_to(ROOT).parts)
    )


def test_no_code_unpickles_loads_yaml_unsafely_or_evaluates_what_it_reads():
    files = _python_files()
    assert ROOT / "annotations" / "services" / "intake.py" in files
    found = [
        hit
        for path in files
        for hit in unsafe_calls(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert found == []


@pytest.mark.parametrize(
    "snippet",
    [
        "import pickle\npickle.loads(body)",
        "import pickle\nwith open(p, 'rb') as f:\n    pickle.load(f)",
        "import pickle as p\np.load(f)",
        "from pickle import loads\nloads(body)",
        "from pickle import loads as undo\nundo(body)",
        "import torch\ntorch.load(path)",
        "import yaml\nyaml.load(text)",
        "import yaml\nyaml.load(text, Loader=yaml.Loader)",
        "import yaml\nyaml.unsafe_load(text)",
        "import numpy as np\nnp.load(path, allow_pickle=True)",
        "eval(request.GET['q'])",
        "exec(code)",
        "eval(f'{x} + 1')",
    ],
)
def test_the_scan_catches_each_unsafe_call(snippet):
    assert len(unsafe_calls(snippet)) == 1, snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "import yaml\nyaml.safe_load(text)",
        "import yaml\nyaml.load(text, Loader=yaml.SafeLoader)",
        "from yaml import CSafeLoader, load\nload(text, CSafeLoader)",
        "import json\njson.loads(body)",
        "import numpy as np\nnp.load(path)",
        "text = 'pickle.loads(body) and torch.load(path)'",
        "eval('1 + 1')",
        "model.eval()",
        "cursor.execute(sql)",
    ],
)
def test_the_scan_lets_safe_calls_through(snippet):
    assert unsafe_calls(snippet) == [], snippet
