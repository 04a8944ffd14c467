"""Countries for the ticket form and the origin group of a country.

Prefers the project's own helpers (``bot/countries.py`` and
``content/countries.yml``, maintained by the content team); falls back to the
ISO codes of the domain reference §3 when those are not there yet.
"""
from __future__ import annotations

import functools

import yaml

from dashboard.i18n import CONTENT

# ISO 3166-1 alpha-2 of the EU/EEA member states (domain reference §3).
_EU_EEA = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU",
    "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES",
    "SE", "IS", "LI", "NO",
}
_BIG5 = {"GB", "BE", "DE", "ES", "PL"}
_FR_OUTERMOST = {"GP", "MQ", "GF", "RE", "YT", "MF"}


def _fallback_group(iso2: str | None) -> str:
    if not iso2:
        return "UNKNOWN"
    iso2 = iso2.upper()
    if iso2 == "FR" or iso2 in _FR_OUTERMOST:
        return "FR"
    if iso2 in _BIG5:
        return "UK_BE_DE_ES_PL"
    if iso2 in _EU_EEA:
        return "OTHER_EU_EEA"
    if iso2 == "CH":
        return "CH"
    return "THIRD"


def bilan_group(iso2: str | None) -> str:
    try:  # the data layer's implementation (content/countries.yml, bot.countries)
        from db.vocabularies import bilan_group as _bg

        return _bg(iso2)
    except Exception:  # noqa: BLE001 - module missing or not ready yet
        return _fallback_group(iso2)


@functools.lru_cache(maxsize=None)
def country_options(lang: str = "fr") -> list[tuple[str, str]]:
    """[(iso2, display name)] sorted by name."""
    rows: list[tuple[str, str]] = []
    try:
        with open(CONTENT / "countries.yml", encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        items = data.get("countries", data) if isinstance(data, dict) else data
        if isinstance(items, dict):
            items = [dict(v, iso2=k) if isinstance(v, dict) else {"iso2": k} for k, v in items.items()]
        for c in items or []:
            if not isinstance(c, dict):
                continue
            code = c.get("iso2") or c.get("code")
            if not code:
                continue
            names = c.get("names") or c.get("name") or {}
            if isinstance(names, dict):
                name = names.get(lang) or names.get("fr") or names.get("en")
                if isinstance(name, list):
                    name = name[0] if name else None
            else:
                name = names
            rows.append((str(code).upper(), str(name or code)))
    except (OSError, yaml.YAMLError, AttributeError, TypeError):
        rows = []
    if not rows:
        rows = [(c, c) for c in sorted(_EU_EEA | _BIG5 | _FR_OUTERMOST | {"CH"})]
    seen: dict[str, str] = {}
    for code, name in rows:
        seen.setdefault(code, name)
    return sorted(seen.items(), key=lambda kv: kv[1])
