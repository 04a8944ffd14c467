"""Finds the requester profile (content/vocabularies.yml codes) stated in free text."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, List, Optional, Pattern

from core.content import load_vocabularies
from core.text import fold


@lru_cache(maxsize=None)
def _cue_patterns() -> Dict[str, List[Pattern[str]]]:
    cues = load_vocabularies().get("profile_cues", {})
    return {
        code: [re.compile(r"\b" + re.escape(fold(cue)) + r"\b") for cue in words]
        for code, words in cues.items()
    }


def profile_codes() -> List[str]:
    return list(load_vocabularies()["profiles"].keys())


def detect_profile(text: str) -> Optional[str]:
    """The profile whose cue appears first in the text, or None.

    The earliest cue wins because people introduce themselves first
    ("je suis pharmacien, un patient belge me demande…" is a provider).
    """
    folded = fold(text)
    best: Optional[tuple] = None
    for code, patterns in _cue_patterns().items():
        for pattern in patterns:
            match = pattern.search(folded)
            if match and (best is None or match.start() < best[0]):
                best = (match.start(), code)
    return best[1] if best else None
