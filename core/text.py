"""Text normalisation shared by the matchers (countries, profiles)."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[\s\-'’_]+")


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text: users often type without accents."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    no_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", no_accents.lower()).strip()
