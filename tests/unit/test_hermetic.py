"""Tests synchronise on conditions, never on the clock.

A bare ``time.sleep`` before an assertion passes on a fast machine and fails on
a loaded one (or the reverse, for a negative check). Tests wait for a condition
with a deadline: ``tests.waiting.wait_until``, or a polling loop. A sleep
outside any loop is refused, unless its line says why it is not a wait
(``# sleep-ok: <reason>``, e.g. a fake server that must hang).
"""
from __future__ import annotations

import ast

from core.settings import REPO_ROOT

TESTS = REPO_ROOT / "tests"
MARK = "# sleep-ok:"


def bare_sleeps(source: str) -> list:
    """Lines calling time.sleep / asyncio.sleep (however imported) outside any loop."""
    tree = ast.parse(source)
    lines = source.splitlines()
    imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module in ("time", "asyncio") for alias in node.names if alias.name == "sleep"}
    found = []

    def is_sleep(node: ast.AST) -> bool:
        if not isinstance(node, ast.Call):
            return False
        function = node.func
        if isinstance(function, ast.Attribute):
            return function.attr == "sleep" and isinstance(function.value, ast.Name) \
                and function.value.id in ("time", "asyncio")
        return isinstance(function, ast.Name) and function.id in imported

    def visit(node: ast.AST, in_loop: bool) -> None:
        if is_sleep(node) and not in_loop and MARK not in lines[node.lineno - 1]:
            found.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, False)  # a function's body runs where it is called, not in this loop
            else:
                visit(child, in_loop or isinstance(node, (ast.While, ast.For, ast.AsyncFor)))
    visit(tree, False)
    return sorted(found)


def test_no_test_sleeps_to_synchronise():
    offenders = [f"{path.relative_to(REPO_ROOT)}:{line}" for path in sorted(TESTS.rglob("*.py"))
                 for line in bare_sleeps(path.read_text(encoding="utf-8"))]
    assert not offenders, ("wait for a condition (tests.waiting.wait_until) instead of sleeping: "
                           + ", ".join(offenders))


def test_the_scan_finds_bare_sleeps_and_lets_polling_loops_be():
    source = (
        "import time, asyncio\nfrom time import sleep as nap\n"
        "time.sleep(1)\n"                                    # 3: bare
        "nap(2)\n"                                           # 4: bare
        "while not ready():\n    time.sleep(0.1)\n"          # 6: polling, allowed
        "for _ in range(3):\n    def f():\n        time.sleep(1)\n"  # 9: bare inside a function
        "asyncio.sleep(60)  # sleep-ok: a fake server that hangs\n"  # 10: said why
    )
    assert bare_sleeps(source) == [3, 4, 9]
