"""Loads the staff-edited content files (content/*.yml) once per process.

Answers, vocabularies and countries live in data files so that PCN staff can
review and change them without touching code; this module is their only reader.
The answer schema is documented in docs/ARCHITECTURE.md ("Question types").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from core.settings import content_dir

LANGUAGES = ("fr", "en")
ROUTES = ("BOT", "BOT_H", "H")


def localized(texts: Optional[Dict[str, str]], language: Optional[str]) -> str:
    """Picks the text in `language`, falling back to French (the PCN's language)."""
    if not texts:
        return ""
    return texts.get(language or "fr") or texts.get("fr") or next(iter(texts.values()))


@dataclass(frozen=True)
class Link:
    url: str
    label: str


@dataclass(frozen=True)
class AnswerText:
    short: str    # the first bubble: direct answer, what to do, time limit
    details: str  # the rest, shown on demand


@dataclass(frozen=True)
class QuestionType:
    code: str
    category: str
    intent: str
    route: str
    title: Dict[str, str]
    legal_basis: Dict[str, str]
    answer: Dict[str, AnswerText]
    links: Dict[str, List[Link]] = field(default_factory=dict)  # by language: pages in the reader's language
    sources: List[str] = field(default_factory=list)
    handoff: Dict[str, str] = field(default_factory=dict)

    @property
    def offers_agent(self) -> bool:
        return self.route in ("BOT_H", "H")


def _read_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _answer_text(body: dict) -> AnswerText:
    return AnswerText(short=(body.get("short") or "").strip(), details=(body.get("details") or "").strip())


@lru_cache(maxsize=None)
def load_answers() -> Dict[str, QuestionType]:
    """All question types, keyed by code (A1 … D8), from content/answers/*.yml."""
    answers: Dict[str, QuestionType] = {}
    for path in sorted((content_dir() / "answers").glob("*.yml")):
        for raw in _read_yaml(path).get("question_types", []):
            qt = QuestionType(
                code=raw["code"],
                category=raw["category"],
                intent=raw["intent"],
                route=raw["route"],
                title=raw["title"],
                legal_basis=raw["legal_basis"],
                answer={lang: _answer_text(body) for lang, body in raw["answer"].items()},
                links={lang: [Link(url=l["url"], label=l["label"]) for l in items]
                       for lang, items in (raw.get("links") or {}).items()},
                sources=list(raw.get("sources", [])),
                handoff=raw.get("handoff") or {},
            )
            if qt.code in answers:
                raise ValueError(f"question type {qt.code} defined twice ({path.name})")
            answers[qt.code] = qt
    return answers


@lru_cache(maxsize=None)
def _answers_by_intent() -> Dict[str, QuestionType]:
    return {qt.intent: qt for qt in load_answers().values()}


def answer_by_intent(intent: Optional[str]) -> Optional[QuestionType]:
    return _answers_by_intent().get(intent or "")


@lru_cache(maxsize=None)
def load_vocabularies() -> dict:
    return _read_yaml(content_dir() / "vocabularies.yml")


@lru_cache(maxsize=None)
def load_countries_file() -> dict:
    return _read_yaml(content_dir() / "countries.yml")


@lru_cache(maxsize=None)
def load_situation_terms() -> dict:
    """content/situation_terms.yml: the words that tell the asker's situation (core/situation.py)."""
    return _read_yaml(content_dir() / "situation_terms.yml")


@lru_cache(maxsize=None)
def load_conversation_texts() -> dict:
    """content/conversation_texts.yml: replies to other languages, domestic questions, distress."""
    return _read_yaml(content_dir() / "conversation_texts.yml")


@lru_cache(maxsize=None)
def load_reply_texts() -> dict:
    """content/replies.yml: acknowledgement and default reply texts (FR/EN), by kind then language."""
    return _read_yaml(content_dir() / "replies.yml")


@lru_cache(maxsize=None)
def load_privacy_terms() -> dict:
    """Word lists of the redaction: health terms, first names (content/privacy_terms.yml)."""
    return _read_yaml(content_dir() / "privacy_terms.yml")
