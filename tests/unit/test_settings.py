"""Every environment variable is declared once (core/settings.py) and documented.

* the README's configuration table and the declared settings agree, both ways,
  defaults included;
* no code reads the environment except core/settings.py, and every ``PCN_*``
  name the code mentions is declared there.
"""
from __future__ import annotations

import ast
import re

from core import settings
from core.settings import REPO_ROOT

CODE_FOLDERS = ("core", "bot", "actions", "db", "dashboard", "mail", "scripts")
ROW = re.compile(r"^\|\s*`(PCN_[A-Z0-9_]+)`\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|\s*$")


def readme_rows() -> dict:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "\n## Configuration" in text, "README.md has lost its '## Configuration' section"
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = ROW.match(line)
        if match:
            assert match[1] not in rows, f"{match[1]} twice in the README table"
            rows[match[1]] = match[2]
    return rows


def shown_default(setting: settings.Setting) -> str:
    return f"`{setting.default}`" if setting.default is not None else "unset"


def test_every_documented_setting_is_in_the_readme_with_its_default():
    rows = readme_rows()
    for setting in settings.SETTINGS.values():
        if setting.documented:
            assert setting.name in rows, f"{setting.name} is missing from the README's configuration table"
            assert rows[setting.name] == shown_default(setting), (
                f"README says {rows[setting.name]!r} for {setting.name}, core/settings.py {shown_default(setting)!r}")


def test_every_readme_row_is_a_declared_documented_setting():
    for name in readme_rows():
        assert name in settings.SETTINGS, f"README documents {name}, which core/settings.py does not declare"
        assert settings.SETTINGS[name].documented, f"{name} is internal (documented=False) but in the README"


def code_files():
    for folder in CODE_FOLDERS:
        yield from sorted((REPO_ROOT / folder).rglob("*.py"))


def environment_reads(tree: ast.AST) -> list:
    """Lines reading os.environ / os.getenv (assigning into os.environ is allowed)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            found.append(node)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" \
                and any(alias.name in ("environ", "getenv") for alias in node.names):
            found.append(node)
    writes = {id(n.value) for n in ast.walk(tree)
              if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store)}
    return [node.lineno for node in found if id(node) not in writes]


def test_only_core_settings_reads_the_environment():
    offenders = []
    for path in code_files():
        if path == REPO_ROOT / "core" / "settings.py":
            continue
        for line in environment_reads(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(REPO_ROOT)}:{line}")
    assert not offenders, "read settings through core.settings.get() (declare them there): " + ", ".join(offenders)


def test_every_pcn_variable_named_in_code_is_declared():
    undeclared = []
    for path in code_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and re.fullmatch(r"PCN_[A-Z0-9_]+", node.value) and node.value not in settings.SETTINGS:
                undeclared.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.value}")
    assert not undeclared, undeclared


def test_the_environment_scan_finds_a_read(tmp_path):
    """The scan above can fail: it sees the usual ways of reading a variable."""
    source = "import os\nfrom os import environ\na = os.environ.get('X')\nb = os.getenv('Y')\nos.environ['Z'] = '1'\n"
    assert sorted(environment_reads(ast.parse(source))) == [2, 3, 4]
