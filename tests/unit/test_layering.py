"""Imports go one way, and no module imports itself back.

    core  (bottom: settings, content, pure helpers)
     ^
    db    (models, repositories, migrations)
     ^
    actions / bot / dashboard / mail   (each uses core and db, never each other)

One exception, by design: ``bot`` (the Rasa server's plug-ins and the process
launchers) may name other packages' entry points (``bot.launcher`` starts
``dashboard/app.py`` and the action server as processes) but imports none.
Every import counts, also the ones inside a function.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Set

from core.settings import REPO_ROOT

PACKAGES = ("core", "db", "actions", "bot", "dashboard", "mail")
ALLOWED: Dict[str, Set[str]] = {
    "core": set(),
    "db": {"core"},
    "actions": {"core", "db"},
    "bot": {"core", "db"},
    "dashboard": {"core", "db"},
    "mail": {"core", "db"},
}


def modules() -> Dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")) if (REPO_ROOT / package).exists() else []:
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, name: str, top_level_only: bool = False) -> Set[str]:
    """Names of the desk's modules that ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".")[: len(name.split(".")) - node.level + (path.name == "__init__.py")]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return {m for m in found if m.split(".")[0] in PACKAGES}


def test_imports_go_one_way():
    wrong = []
    for name, path in modules().items():
        package = name.split(".")[0]
        for imported in imports(path, name):
            target = imported.split(".")[0]
            if target != package and target not in ALLOWED[package]:
                wrong.append(f"{name} imports {imported}")
    assert not wrong, wrong


def test_no_import_cycle():
    known = modules()
    graph = {name: {m for m in imports(path, name, top_level_only=True) if m in known and m != name}
             for name, path in known.items()}
    visiting, done, cycles = [], set(), []

    def visit(node: str) -> None:
        if node in done:
            return
        if node in visiting:
            cycles.append(visiting[visiting.index(node):] + [node])
            return
        visiting.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        visiting.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)
    assert not cycles, [" -> ".join(cycle) for cycle in cycles]


def test_the_checks_see_a_wrong_way_import(tmp_path):
    (tmp_path / "x.py").write_text("def f():\n    from dashboard.i18n import t\n    import bot.channels\n")
    assert imports(tmp_path / "x.py", "db.x") == {"dashboard.i18n", "dashboard.i18n.t", "bot.channels"}
