"""UI texts and vocabulary labels.

Vocabulary labels (categories, profiles, origin groups, statuses…) come from
``content/vocabularies.yml``; the dashboard's own words from
``dashboard/labels.yml``.  Nothing here hard-codes a label.
"""
from __future__ import annotations

import functools
import glob
import os
from pathlib import Path

import yaml

from bot.content import load_vocabularies

ROOT = Path(__file__).resolve().parent.parent
CONTENT = Path(os.environ.get("PCN_CONTENT_DIR", ROOT / "content"))
LANGS = ("fr", "en")


def vocabularies() -> dict:
    return load_vocabularies()  # bot/content.py is the one reader of content/


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


@functools.lru_cache(maxsize=None)
def question_titles() -> dict[str, dict]:
    """{code: {"fr": title, "en": title, "category": c}} from content/answers/*.yml.

    The answer files are edited by the content team; a missing, empty or
    malformed file is skipped, never fatal.
    """
    out: dict[str, dict] = {}
    for path in sorted(glob.glob(str(CONTENT / "answers" / "*.yml"))):
        try:
            with open(path, encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
        except (OSError, yaml.YAMLError):
            continue
        for qt in (data.get("question_types") or []) if isinstance(data, dict) else []:
            if not isinstance(qt, dict) or not qt.get("code"):
                continue
            title = qt.get("title") or {}
            out[str(qt["code"])] = {
                "fr": title.get("fr") if isinstance(title, dict) else str(title),
                "en": title.get("en") if isinstance(title, dict) else str(title),
                "category": qt.get("category"),
            }
    return out


def question_label(code: str | None, lang: str = "fr") -> str:
    if not code:
        return t("unknown", lang)
    entry = question_titles().get(code)
    if not entry:
        return str(code)
    title = entry.get(lang) or entry.get("fr")
    return f"{code} · {title}" if title else str(code)
