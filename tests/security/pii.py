"""Look for personal data at rest: every table of a database, files (spool, logs).

A value is searched as written, as JSON escapes it ("Wo\\u0142owska") and, for
numbers of 9 digits or more, with separators ignored ("1 85 05 78…" = "18505578…").
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, Iterable, List

import sqlalchemy as sa

_SEPARATORS = re.compile(r"(?<=\d)[ .\-](?=\d)")


def _forms(needle: str) -> List[str]:
    forms = {needle, json.dumps(needle)[1:-1], needle.lower()}
    if sum(c.isdigit() for c in needle) >= 9:
        forms.add(re.sub(r"[ .\-()+]", "", needle))
    return [f for f in forms if f]


def _haystacks(text: str) -> List[str]:
    out = [text, text.lower(), _SEPARATORS.sub("", text)]
    try:
        decoded = json.dumps(json.loads(text), ensure_ascii=False)
        out += [decoded, decoded.lower()]
    except (ValueError, TypeError):
        pass
    return out


def found_in(text: str, needle: str) -> bool:
    stacks = _haystacks(text)
    return any(form in stack for form in _forms(needle) for stack in stacks)


def scan_database(url: str, needles: Dict[str, str], allowed: Iterable[tuple] = ()) -> List[str]:
    """``kind: table.column`` for every value holding one of ``needles`` (name → value),
    except the (name, table, column) triples in ``allowed``."""
    allowed = set(allowed)
    hits: List[str] = []
    engine = sa.create_engine(url, future=True, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            for table in sa.inspect(connection).get_table_names():
                rows = connection.execute(sa.text(f'SELECT * FROM "{table}"')).mappings().all()
                for row in rows:
                    for column, value in row.items():
                        if value is None:
                            continue
                        text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
                        for name, needle in needles.items():
                            if (name, table, column) not in allowed and found_in(text, needle):
                                hits.append(f"{name}: {table}.{column} = {text[:160]!r}")
    finally:
        engine.dispose()
    return hits


def scan_files(paths: Iterable[Path], needles: Dict[str, str]) -> List[str]:
    hits = []
    for path in paths:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for name, needle in needles.items():
            if found_in(text, needle):
                hits.append(f"{name}: {path}")
    return hits


def table_counts(url: str) -> Dict[str, int]:
    engine = sa.create_engine(url, future=True, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return {t: connection.execute(sa.text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one()
                    for t in sa.inspect(connection).get_table_names()}
    finally:
        engine.dispose()
