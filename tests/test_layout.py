"""The house's rules, checked on the source: dependencies point one way, nothing imports inside a
function to dodge a cycle, and no module grows past about 400 lines (docs/architecture.md)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest first: an app may import the apps before it, never the ones after it. `clinic` is the
# project underneath (settings, roles, errors); its root URLconf gathers every room's pages.
LAYERS = [
    "clinic", "catalogue", "patients", "clinical", "scheduling", "outbox", "aftercare", "photos", "records",
    "waitlist", "portal", "api", "demo",
]  # fmt: skip
COMPOSES_EVERYTHING = {"clinic/urls.py"}
MAX_LINES = 420


def _modules():
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield app, path


def _project_imports(tree):
    """(line, module, inside a function) for every import of a project app."""
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.extend([(child.lineno, child.module, in_function)])
            visit(child, nested)

    visit(tree, False)
    return [(line, module, inner) for line, module, inner in found if module.split(".")[0] in LAYERS]


def test_every_room_imports_only_the_rooms_below_it():
    rank = {app: index for index, app in enumerate(LAYERS)}
    upward = []
    for app, path in _modules():
        name = str(path.relative_to(ROOT))
        if name in COMPOSES_EVERYTHING:
            continue
        for line, module, _ in _project_imports(ast.parse(path.read_text())):
            if rank[module.split(".")[0]] > rank[app]:
                upward.append(f"{name}:{line} imports {module}")
    assert upward == []


def test_no_function_imports_a_project_module_except_an_apps_ready():
    # AppConfig.ready() is where Django wants signal receivers connected: the models are loaded then.
    hidden = []
    for _, path in _modules():
        if path.name == "apps.py":
            continue
        for line, module, inner in _project_imports(ast.parse(path.read_text())):
            if inner:
                hidden.append(f"{path.relative_to(ROOT)}:{line} imports {module} inside a function")
    assert hidden == []


@pytest.mark.parametrize("path", [path for _, path in _modules()], ids=lambda path: str(path.relative_to(ROOT)))
def test_no_module_grows_past_about_400_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES
