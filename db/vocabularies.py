"""Controlled vocabularies (content/vocabularies.yml) and bilan groups of countries.

The database stores plain string codes; this module checks them against the
data files so that a typo in an action fails loudly in tests instead of
polluting the bilan. If a data file is missing, checks are skipped.
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Dict, FrozenSet, Optional

from db.settings import REPO_ROOT

logger = logging.getLogger(__name__)

CONTENT_DIR = REPO_ROOT / "content"

# Fallback when content/countries.yml and bot.countries are both unavailable.
_EU_EEA = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO".split()
)
_UK_BE_DE_ES_PL = frozenset({"GB", "BE", "DE", "ES", "PL"})
GROUPS = ("FR", "UK_BE_DE_ES_PL", "OTHER_EU_EEA", "CH", "THIRD", "UNKNOWN")


def _load_yaml(path: Path):
    import yaml

    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@functools.lru_cache(maxsize=1)
def load() -> Dict:
    path = CONTENT_DIR / "vocabularies.yml"
    try:
        return _load_yaml(path) or {}
    except FileNotFoundError:  # pragma: no cover - the file is part of the repo
        logger.warning("%s not found: vocabulary checks disabled", path)
        return {}


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


@functools.lru_cache(maxsize=1)
def _groups_from_countries_yml() -> Dict[str, str]:
    """ISO2 -> bilan group read from content/countries.yml (tolerant of its layout)."""
    path = CONTENT_DIR / "countries.yml"
    try:
        data = _load_yaml(path)
    except (FileNotFoundError, OSError):
        return {}
    except Exception:  # malformed while another engineer edits it
        logger.warning("could not read %s", path, exc_info=True)
        return {}
    entries = data.get("countries", data) if isinstance(data, dict) else data
    mapping: Dict[str, str] = {}
    if isinstance(entries, dict):  # {FR: {bilan_group: FR, ...}, ...}
        items = [dict(value or {}, iso2=key) for key, value in entries.items() if isinstance(value, dict)]
    else:  # [{iso2: FR, bilan_group: FR, ...}, ...]
        items = [item for item in entries or [] if isinstance(item, dict)]
    for item in items:
        iso2 = str(item.get("iso2") or item.get("code") or "").upper()
        group = item.get("bilan_group") or item.get("group")
        if len(iso2) == 2 and group:
            mapping[iso2] = str(group)
    return mapping


def _fallback_group(iso2: str) -> str:
    if iso2 == "FR":
        return "FR"
    if iso2 in _UK_BE_DE_ES_PL:
        return "UK_BE_DE_ES_PL"
    if iso2 == "CH":
        return "CH"
    if iso2 in _EU_EEA:
        return "OTHER_EU_EEA"
    return "THIRD"


def bilan_group(iso2: Optional[str]) -> str:
    """Bilan group of a country: ``bot.countries.bilan_group`` when importable,
    else content/countries.yml, else a built-in EU/EEA list."""
    if not iso2:
        return "UNKNOWN"
    iso2 = iso2.strip().upper()
    if iso2 == "UK":
        iso2 = "GB"
    try:  # imported lazily: bot/ is written in parallel and may import Rasa-free helpers only
        from bot.countries import bilan_group as bot_bilan_group  # type: ignore
    except Exception:
        bot_bilan_group = None
    if bot_bilan_group is not None:
        try:
            group = bot_bilan_group(iso2)
            if group in GROUPS:
                return group
        except Exception:
            logger.warning("bot.countries.bilan_group(%r) failed", iso2, exc_info=True)
    mapping = _groups_from_countries_yml()
    if iso2 in mapping:
        return mapping[iso2]
    return _fallback_group(iso2)
