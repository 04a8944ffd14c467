"""UI texts and vocabulary labels.

Vocabulary labels (categories, profiles, origin groups, statuses…) come from
``content/vocabularies.yml``; the dashboard's own words from
``dashboard/labels.yml``.  Nothing here hard-codes a label.
"""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

from core.content import load_answers, load_vocabularies


def vocabularies() -> dict:
    return load_vocabularies()  # core/content.py is the one reader of content/


@functools.lru_cache(maxsize=None)
def ui_labels() -> dict:
    with open(Path(__file__).with_name("labels.yml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def t(key: str, lang: str = "fr", **fmt) -> str:
    """A dashboard UI string in ``lang``; the key itself if missing."""
    entry = ui_labels().get(key)
    if entry is None:
        text = key
    elif isinstance(entry, dict):
        text = entry.get(lang) or entry.get("fr") or key
    else:
        text = str(entry)
    return text.format(**fmt) if fmt else text


def codes(vocab: str) -> list[str]:
    return list((vocabularies().get(vocab) or {}).keys())


def label(vocab: str, code: str | None, lang: str = "fr") -> str:
    """Label of ``code`` in vocabulary ``vocab``; "unknown" for None."""
    if code is None or code == "":
        return t("unknown", lang)
    entry = (vocabularies().get(vocab) or {}).get(code)
    if not entry:
        return str(code)
    return entry.get(lang) or entry.get("fr") or str(code)


def question_titles() -> dict[str, dict]:
    """{code: {"fr": title, "en": title, "category": c}} of the question types."""
    return {code: {**qt.title, "category": qt.category} for code, qt in load_answers().items()}


def question_label(code: str | None, lang: str = "fr") -> str:
    if not code:
        return t("unknown", lang)
    entry = question_titles().get(code)
    if not entry:
        return str(code)
    title = entry.get(lang) or entry.get("fr")
    return f"{code} · {title}" if title else str(code)
