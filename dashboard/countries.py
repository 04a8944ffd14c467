"""Countries offered by the ticket form (content/countries.yml, through core.countries)."""
from __future__ import annotations

import functools

from core.content import localized
from core.countries import load_countries


@functools.lru_cache(maxsize=None)
def country_options(lang: str = "fr") -> list[tuple[str, str]]:
    """[(iso2, display name)] sorted by name."""
    rows = [(c["iso2"], localized(c["names"], lang)) for c in load_countries()]
    return sorted(rows, key=lambda row: row[1])
