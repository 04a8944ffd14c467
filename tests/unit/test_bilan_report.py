"""Rounding rule, default period and the generated bilan paragraph (FR/EN)."""
from __future__ import annotations

import datetime as dt

import pytest

from dashboard.report import breakdown_rows, default_period, largest_remainder, paragraph


@pytest.mark.parametrize("counts,decimals", [
    ([184, 25, 38, 27], 0), ([1, 1, 1], 1), ([1, 1, 1], 0), ([98, 1, 1], 1), ([7, 0, 3, 11, 13], 1),
    ([1] * 7, 1), ([264, 7, 3], 1),
])
def test_largest_remainder_sums_to_100(counts, decimals):
    shares = largest_remainder(counts, decimals)
    assert round(sum(shares), 6) == 100
    for c, s in zip(counts, shares):
        assert abs(s - 100 * c / sum(counts)) < 10 ** -decimals + 1e-9


def test_largest_remainder_2015_categories():
    assert largest_remainder([184, 25, 38, 27], 0) == [67, 9, 14, 10]
    assert largest_remainder([1, 1, 1], 1) == [33.4, 33.3, 33.3]
    assert largest_remainder([0, 0], 1) == [0, 0]


def test_default_period_is_last_six_full_months():
    assert default_period(dt.date(2026, 11, 28)) == (dt.date(2026, 5, 1), dt.date(2026, 10, 31))
    assert default_period(dt.date(2026, 3, 1)) == (dt.date(2025, 9, 1), dt.date(2026, 2, 28))


def _bilan_2015():
    """The 2015 bilan as counts (274 enquiries; profiles known for 264)."""
    return {
        "start": dt.date(2015, 4, 1), "end": dt.date(2015, 10, 31), "total": 274,
        "category": [{"code": "a", "count": 184}, {"code": "b", "count": 25}, {"code": "c", "count": 38},
                     {"code": "d", "count": 27}, {"code": None, "count": 0}],
        "profile": [{"code": "IND", "count": 169}, {"code": "HCP", "count": 37}, {"code": "NCP", "count": 29},
                    {"code": "SSF", "count": 22}, {"code": "SSA", "count": 7}, {"code": "OTH", "count": 0},
                    {"code": "UNK", "count": 10}],
        "origin": [{"code": "FR", "count": 98}, {"code": "UK_BE_DE_ES_PL", "count": 104},
                   {"code": "OTHER_EU_EEA", "count": 67}, {"code": "CH", "count": 0}, {"code": "THIRD", "count": 0},
                   {"code": "UNKNOWN", "count": 5}],
        "outcome": [{"code": "answered", "count": 0}, {"code": "escalated", "count": 274}],
    }


def test_paragraph_fr_en_in_2015_style():
    b = _bilan_2015()
    fr = paragraph(b, "fr")
    assert fr.startswith("D'avril à fin octobre 2015, 274 demandes individuelles ont été traitées : 67\u00a0% portaient sur « Exercer ses droits » ; 9\u00a0% sur")
    assert "Particuliers (64,0\u00a0%)" in fr and "(8,3\u00a0%)" in fr and "(2,7\u00a0%)" in fr
    assert "sur 264 profils connus ; 10 inconnu" in fr
    en = paragraph(b, "en")
    assert en.startswith("From April to the end of October 2015, 274 individual enquiries were handled: 67% concerned “Exercising one's rights”")
    assert "Individuals (64.0%)" in en


def test_breakdown_rows_include_unknown_and_sum_to_100():
    rows = breakdown_rows(_bilan_2015(), "origin", "fr")
    assert rows[-1]["label"] == "Inconnu" and rows[-1]["count"] == 5
    assert round(sum(r["share"] for r in rows), 6) == 100


def test_paragraph_other_periods():
    b = _bilan_2015() | {"start": dt.date(2025, 11, 1), "end": dt.date(2026, 4, 30)}
    assert paragraph(b, "fr").startswith("De novembre 2025 à fin avril 2026,")
    b = _bilan_2015() | {"start": dt.date(2026, 1, 3), "end": dt.date(2026, 1, 20)}
    assert paragraph(b, "en").startswith("From 3 January 2026 to 20 January 2026,")
    b["total"] = 0
    assert "aucune demande" in paragraph(b, "fr")
