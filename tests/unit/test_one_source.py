"""Each controlled fact has one source: content/vocabularies.yml, content/countries.yml or core/.

Code never spells out again a list of ticket statuses, roles, bilan groups,
outcomes or a list of countries: it reads them (core.content, core.countries,
core.vocabulary), so that a change in the data files reaches every use.
"""
from __future__ import annotations

import ast

from core.content import load_countries_file, load_vocabularies
from core.settings import REPO_ROOT

CODE_FOLDERS = ("core", "bot", "actions", "db", "dashboard", "mail")
SECTIONS = ("ticket_statuses", "roles", "origin_groups", "enquiry_outcomes", "question_outcomes", "categories",
            "profiles")


def literal_sequences(source: str):
    """(line, set of strings) of every tuple / list / set literal made only of string constants."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and len(node.elts) >= 3 \
                and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            yield node.lineno, {e.value for e in node.elts}


MARK = "# one source:"  # a deliberate list says why on its line, e.g. "# one source: a UI choice, …"


def copies_in(source: str) -> list:
    lines = source.splitlines()
    vocabularies = load_vocabularies()
    eu = {c["iso2"] for c in load_countries_file()["countries"] if c.get("eu")}
    found = []
    for line, values in literal_sequences(source):
        if MARK in lines[line - 1]:
            continue
        for section in SECTIONS:
            if values <= set(vocabularies.get(section) or {}):
                found.append((line, section))
        if len(values) >= 4 and values <= eu | {"IS", "LI", "NO", "CH", "GB"}:
            found.append((line, "a list of countries"))
    return found


def test_no_code_copies_a_vocabulary_or_a_country_list():
    copies = []
    for folder in CODE_FOLDERS:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")) if (REPO_ROOT / folder).exists() else []:
            for line, what in copies_in(path.read_text(encoding="utf-8")):
                copies.append(f"{path.relative_to(REPO_ROOT)}:{line} copies {what}")
    assert not copies, copies


def test_the_scan_sees_a_copy():
    source = 'STATUSES = ("new", "open", "waiting", "resolved")\nEU = ["DE", "ES", "IT", "BE"]\nok = ("a", "b", "x")\n'
    source += 'BUTTONS = ("FR", "BE", "DE", "ES")  # one source: the buttons offered, a UI choice\n'
    assert copies_in(source) == [(1, "ticket_statuses"), (2, "a list of countries")]
