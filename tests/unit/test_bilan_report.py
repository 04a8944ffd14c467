"""Rounding rule, default period and the generated bilan paragraph (FR/EN)."""
from __future__ import annotations

import datetime as dt

import pytest

from dashboard.report import breakdown_rows, default_period, fmt_pct, largest_remainder, paragraph


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
        "start": dt.date(2015, 4, 1), "end": dt.date(2015, 10, 31), "total": 274, "escalated": 274,
        "category": [{"code": "a", "count": 184}, {"code": "b", "count": 25}, {"code": "c", "count": 38},
                     {"code": "d", "count": 27}, {"code": None, "count": 0}],
        "profile": [{"code": "IND", "count": 169}, {"code": "HCP", "count": 37}, {"code": "NCP", "count": 29},
                    {"code": "SSF", "count": 22}, {"code": "SSA", "count": 7}, {"code": "OTH", "count": 0},
                    {"code": "UNK", "count": 10}],
        "origin": [{"code": "FR", "count": 98}, {"code": "UK_BE_DE_ES_PL", "count": 104},
                   {"code": "OTHER_EU_EEA", "count": 67}, {"code": "CH", "count": 0}, {"code": "THIRD", "count": 0},
                   {"code": "UNKNOWN", "count": 5}],
        "outcome": [{"code": "answered", "count": 0}, {"code": "escalated", "count": 274}, {"code": None, "count": 0}],
        "channel": [{"code": "web", "count": 0}, {"code": "email", "count": 180}, {"code": "phone", "count": 84},
                    {"code": "letter", "count": 10}, {"code": None, "count": 0}],
        "excluded": [{"code": "test", "count": 3}, {"code": "empty", "count": 40}, {"code": "garbage", "count": 7}],
    }


def test_paragraph_quotes_the_tables_shares_with_one_denominator():
    b = _bilan_2015()
    fr = paragraph(b, "fr")
    assert fr.startswith("D'avril à fin octobre 2015, 274 demandes individuelles ont été traitées "
                         "(50 sessions sans question réelle")
    # categories: the table's shares (1 decimal, out of all 274) — the same figures in the text
    rows = {r["code"]: r for r in breakdown_rows(b, "category", "fr")}
    assert rows["a"]["share"] == 67.1 and "« Exercer ses droits » (67,1\u00a0%)" in fr
    # profiles: out of 274 with the unknowns named, not out of the 264 known
    assert "Particuliers (61,7\u00a0%)" in fr and "inconnu (3,6\u00a0%)" in fr
    assert "Courriel (65,7\u00a0%)" in fr and "Chat du site web" not in fr  # zero rows are left out of the text
    assert "Toutes les parts sont calculées sur les 274 demandes de la période" in fr
    for dim in ("category", "profile", "origin", "channel"):
        for r in breakdown_rows(b, dim, "fr"):
            if r["count"] and r["code"] not in ("", "UNK", "UNKNOWN"):
                assert f"({fmt_pct(r['share'], 'fr')})" in fr, (dim, r)
    en = paragraph(b, "en")
    assert en.startswith("From April to the end of October 2015, 274 individual enquiries were handled")
    assert "“Exercising one's rights” (67.1%)" in en and "Individuals (61.7%)" in en


def test_breakdown_rows_include_unknown_and_sum_to_100():
    rows = breakdown_rows(_bilan_2015(), "origin", "fr")
    assert rows[-1]["label"] == "Inconnu" and rows[-1]["count"] == 5
    assert round(sum(r["share"] for r in rows), 6) == 100
    channels = breakdown_rows(_bilan_2015(), "channel", "fr")
    assert [r["code"] for r in channels] == ["web", "email", "phone", "letter"]  # no empty "unknown" channel


def test_paragraph_other_periods():
    b = _bilan_2015() | {"start": dt.date(2025, 11, 1), "end": dt.date(2026, 4, 30)}
    assert paragraph(b, "fr").startswith("De novembre 2025 à fin avril 2026,")
    b = _bilan_2015() | {"start": dt.date(2026, 1, 3), "end": dt.date(2026, 1, 20)}
    assert paragraph(b, "en").startswith("From 3 January 2026 to 20 January 2026,")
    b["total"] = 0
    assert "aucune demande" in paragraph(b, "fr")


def test_previous_period_has_the_same_length():
    from db.repositories.bilan import previous_period

    assert previous_period(dt.date(2026, 1, 1), dt.date(2026, 6, 30)) == (dt.date(2025, 7, 1), dt.date(2025, 12, 31))
    assert previous_period(dt.date(2026, 3, 1), dt.date(2026, 3, 31)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert previous_period(dt.date(2026, 1, 10), dt.date(2026, 1, 19)) == (dt.date(2025, 12, 31), dt.date(2026, 1, 9))
