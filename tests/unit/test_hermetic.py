"""Tests synchronise on conditions, never on the clock.

A bare ``time.sleep`` before an assertion passes on a fast machine and fails on
a loaded one (or the reverse, for a negative check). Tests wait with
``tests.waiting.wait_until`` (poll a condition with a deadline), the one place
in tests/ allowed to sleep.
"""
from __future__ import annotations

import ast

from core.settings import REPO_ROOT

TESTS = REPO_ROOT / "tests"
ALLOWED = {TESTS / "waiting.py"}


def sleeps(source: str) -> list:
    """Lines that call time.sleep / asyncio.sleep, however imported."""
    tree = ast.parse(source)
    imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module in ("time", "asyncio") for alias in node.names if alias.name == "sleep"}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr == "sleep" \
                and isinstance(function.value, ast.Name) and function.value.id in ("time", "asyncio"):
            found.append(node.lineno)
        elif isinstance(function, ast.Name) and function.id in imported:
            found.append(node.lineno)
    return found


def test_no_test_sleeps_to_synchronise():
    offenders = [f"{path.relative_to(REPO_ROOT)}:{line}" for path in sorted(TESTS.rglob("*.py"))
                 if path not in ALLOWED for line in sleeps(path.read_text(encoding="utf-8"))]
    assert not offenders, "wait for a condition with tests.waiting.wait_until instead: " + ", ".join(offenders)


def test_the_scan_finds_the_usual_spellings():
    source = ("import time, asyncio\nfrom time import sleep as nap\n"
              "time.sleep(1)\nnap(2)\nasyncio.sleep(0)\nwait_until(ok, 5)\n")
    assert sorted(sleeps(source)) == [3, 4, 5]

