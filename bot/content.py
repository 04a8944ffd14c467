"""Loads the staff-edited content files (content/*.yml) once per process.

Answers, vocabularies and countries live in data files so that PCN staff can
review and change them without touching code; this module is the only reader.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("fr", "en")
ROUTES = ("BOT", "BOT_H", "H")


def content_dir() -> Path:
    return Path(os.environ.get("PCN_CONTENT_DIR", REPO_ROOT / "content"))


def localized(texts: Optional[Dict[str, str]], language: Optional[str]) -> str:
    """Picks the text in `language`, falling back to French (the PCN's language)."""
    if not texts:
        return ""
    return texts.get(language or "fr") or texts.get("fr") or next(iter(texts.values()))


@dataclass(frozen=True)
class Link:
    url: str
    label: Dict[str, str]


@dataclass(frozen=True)
class QuestionType:
    code: str
    category: str
    intent: str
    route: str
    title: Dict[str, str]
    legal_basis: Dict[str, str]
    answer: Dict[str, str]
    links: List[Link] = field(default_factory=list)
    sources: List[str] = field(default_factory=list)
    handoff: Dict[str, str] = field(default_factory=dict)

    @property
    def offers_agent(self) -> bool:
        return self.route in ("BOT_H", "H")


def _read_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


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
                answer={lang: text.strip() for lang, text in raw["answer"].items()},
                links=[Link(url=l["url"], label=l["label"]) for l in raw.get("links", [])],
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


def load_countries() -> List[dict]:
    return list(load_countries_file().get("countries", []))
