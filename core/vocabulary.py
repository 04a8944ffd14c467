"""Controlled vocabularies (content/vocabularies.yml) and bilan groups of countries.

The database stores plain string codes; this module checks them against the
data files so that a typo in an action fails loudly in tests instead of
polluting the bilan. The files are read by core/content.py, their one reader.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, Optional

from core.content import load_vocabularies
from core.countries import bilan_group as _country_bilan_group
from core.countries import iso2_code


def load() -> Dict:
    return load_vocabularies()


GROUPS = tuple(load().get("origin_groups", {}))


def codes(section: str) -> FrozenSet[str]:
    """Codes of one vocabulary section (e.g. ``profiles``), empty if unknown."""
    return frozenset((load().get(section) or {}).keys())


def check(section: str, code: Optional[str], *, allow_none: bool = True) -> Optional[str]:
    """Return ``code`` if it belongs to ``section`` (or the section is not loaded)."""
    if code is None:
        if allow_none:
            return None
        raise ValueError(f"{section}: a code is required")
    known = codes(section)
    if known and code not in known:
        raise ValueError(f"{section}: unknown code {code!r} (known: {sorted(known)})")
    return code


def bilan_group(iso2: Optional[str]) -> str:
    """Bilan group of a country code (content/countries.yml); "UK" is taken as GB."""
    try:
        return _country_bilan_group(iso2_code(iso2))
    except ValueError:  # not a country code: no group
        return "UNKNOWN"
