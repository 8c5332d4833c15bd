"""Templates and code name their links ({% url %}, reverse), never spell a path: a path spelled out
goes stale silently when a URL moves, a reversed one fails loudly."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A link attribute whose value starts with "/" rather than a {% url %} or a variable.
SPELLED_IN_TEMPLATE = re.compile(r"""(?:href|action|src|hx-(?:get|post|put|patch|delete))\s*=\s*["']/""")
# A string in Python that starts with one of the site's first path segments.
SEGMENTS = "patients|appointments|courses|day|clinical|queues|p|book|accounts|admin|api"
SPELLED_IN_PYTHON = re.compile(rf"""(?:\bf)?["']/(?:{SEGMENTS})(?:/|["'])""")
# Not links: the health check answers its path before URL resolution, and the 404 handler tells
# API clients (everything under /api/, whichever version) from people.
ALLOWED = {("clinic/views.py", 'request.path.startswith("/api/")')}


def _templates():
    return sorted(p for p in (ROOT / "templates").rglob("*") if p.suffix in {".html", ".txt"})


def _modules():
    skip = {".venv", "tests", "migrations", "bench", "static"}
    return sorted(p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts))


@pytest.mark.parametrize("template", _templates(), ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_templates_reverse_their_links(template):
    spelled = [line.strip() for line in template.read_text().splitlines() if SPELLED_IN_TEMPLATE.search(line)]
    assert spelled == []


def test_code_reverses_its_paths():
    spelled = []
    for module in _modules():
        name = str(module.relative_to(ROOT))
        for number, line in enumerate(module.read_text().splitlines(), 1):
            if SPELLED_IN_PYTHON.search(line) and not any(name == n and text in line for n, text in ALLOWED):
                spelled.append(f"{name}:{number}: {line.strip()}")
    assert spelled == []
