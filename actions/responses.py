"""Renders domain.yml responses in a chosen language inside an action.

Rasa renders `utter_*` responses with the slots as they were *before* the
action ran; when an action has just decided the language (or composes several
responses into one message) it renders them itself, from the same file.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional

import yaml

from core.settings import REPO_ROOT


@lru_cache(maxsize=None)
def _responses() -> Dict[str, List[dict]]:
    # domain/domain.yml: the hand-written domain (a link to the top-level domain.yml in a
    # checkout, a copy in an installed package)
    with (REPO_ROOT / "domain" / "domain.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["responses"]


def _matches(variation: dict, language: Optional[str]) -> bool:
    return all(
        c.get("name") == "language" and str(c.get("value")) == (language or "fr")
        for c in variation.get("condition", [])
    )


def variation(name: str, language: Optional[str]) -> dict:
    """The variation Rasa would pick: a matching conditional one, else the default."""
    variations = _responses()[name]
    conditional = [v for v in variations if v.get("condition") and _matches(v, language)]
    default = [v for v in variations if not v.get("condition")]
    return (conditional or default)[0]


def render(name: str, language: Optional[str], **values: Any) -> Dict[str, Any]:
    """{"text": ..., "buttons": [...]} of a response, with {placeholders} filled."""
    chosen = variation(name, language)
    text = chosen.get("text", "")
    return {"text": text.format(**values) if values else text, "buttons": list(chosen.get("buttons", []))}


def text(name: str, language: Optional[str], **values: Any) -> str:
    return render(name, language, **values)["text"]
