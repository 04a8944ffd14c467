"""The redaction suite (tests/data/redaction_cases.yml) against core/privacy.py.

Every identifier of every case must be masked whole, and every word marked `keep`
(countries, hospitals, amounts, care dates) must survive. bench/bench_redaction.py
reports the same cases as recall and precision per kind.
"""
from __future__ import annotations

import pytest

from bench.bench_redaction import IDENTIFIER_KINDS, load_cases, covered, findings
from core.privacy import redact, redact_for_statistics

CASES = load_cases()


def test_suite_is_large_and_covers_every_kind():
    kinds = {kind for case in CASES for kind in case.expect}
    assert len(CASES) >= 100
    assert set(IDENTIFIER_KINDS) | {"HEALTH"} <= kinds
    with_identifiers = [c for c in CASES if set(c.expect) & set(IDENTIFIER_KINDS)]
    assert len(with_identifiers) >= 100


def _id(case) -> str:
    return case.text[:60]


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_identifiers_are_masked_whole_and_countries_stay(case):
    found = findings(case.text, "full")
    for kind, start, end in case.spans(IDENTIFIER_KINDS):
        assert covered(case.text, start, end, found), (kind, case.text[start:end], redact(case.text))
    masked = redact(case.text)
    for word in case.keep:
        assert word in masked, (word, masked)


@pytest.mark.parametrize("case", [c for c in CASES if "HEALTH" in c.expect], ids=_id)
def test_health_terms_are_masked_in_statistics_only(case):
    stats = redact_for_statistics(case.text)
    for term in case.expect["HEALTH"]:
        assert term not in stats, stats
        assert term in redact(case.text)   # tickets keep them: an agent needs them
    assert "[HEALTH]" in stats
    for word in case.keep:
        assert word in stats, (word, stats)


def test_statistics_text_is_identifiers_and_health_masked():
    text = "Je m'appelle Jeanne Martin, j'ai un cancer du sein, tél 06 12 34 56 78, soins en Belgique"
    assert redact_for_statistics(text) == \
        "Je m'appelle [PERSON], j'ai un [HEALTH], tél [PHONE], soins en Belgique"
