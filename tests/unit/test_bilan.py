"""Bilan figures checked against a small hand-computed dataset (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt

import pytest

from db.models import Enquiry, EnquiryQuestion, Ticket
from db.repositories.bilan import compute_bilan
from db.session import session_scope

UTC = dt.timezone.utc
H = dt.timedelta(hours=1)


def at(y, m, d, h=10):
    return dt.datetime(y, m, d, h, tzinfo=UTC)


def _enquiry(s, eid, started, profile, country, group, outcome, turns, fallback, questions, status="request"):
    s.add(Enquiry(id=eid, conversation_id="c-" + eid, started_at=started, language="fr", profile=profile,
                  origin_country=country, origin_group=group, outcome=outcome, user_turns=turns, fallback_turns=fallback,
                  bilan_status=status))
    s.flush()
    for k, (cat, code, outcome_q, text) in enumerate(questions):
        s.add(EnquiryQuestion(enquiry_id=eid, asked_at=started + dt.timedelta(minutes=k + 1), text_redacted=text,
                              intent="x", confidence=0.9, question_code=code, category=cat, outcome=outcome_q))
        s.flush()


def _ticket(s, n, created, fr=None, res=None, status="new"):
    s.add(Ticket(reference=f"PCN-2026-{n:06d}", idempotency_key=f"k{n}", created_at=created, updated_at=created,
                 status=status, first_response_at=fr, resolved_at=res, transcript=[]))


@pytest.fixture
def hand_dataset(migrated_db):
    with session_scope() as s:
        _enquiry(s, "e1", at(2026, 1, 5), "IND", "FR", "FR", "answered", 3, 0,
                 [("a", "A1", "answered", "droit aux soins ?"), ("c", "C1", "answered", "remboursement ?")])
        _enquiry(s, "e2", at(2026, 1, 6), "HCP", "BE", "UK_BE_DE_ES_PL", "escalated", 4, 1,
                 [(None, None, "not_understood", "quel temps"), ("c", "C4", "handoff_offered", "retard")])
        _enquiry(s, "e3", at(2026, 1, 31, 23), "UNK", None, "UNKNOWN", "not_understood", 2, 2,
                 [(None, None, "not_understood", "Quel temps "), (None, None, "out_of_scope", "quel temps")])
        _enquiry(s, "e4", at(2026, 2, 2), "IND", "IT", "OTHER_EU_EEA", "answered", 1, 0,
                 [("a", "A1", "answered", "droit ?")])
        # outside the period (the day before, the day after)
        _enquiry(s, "e5", at(2025, 12, 31, 23), "SSF", "DE", "UK_BE_DE_ES_PL", "escalated", 9, 9,
                 [("d", "D1", "answered", "x")])
        _enquiry(s, "e6", at(2026, 3, 1, 0), "SSF", "DE", "UK_BE_DE_ES_PL", "escalated", 9, 9,
                 [("d", "D1", "answered", "x")])
        _ticket(s, 1, at(2026, 1, 10), fr=at(2026, 1, 10) + 1 * H, res=at(2026, 1, 10) + 10 * H, status="resolved")
        _ticket(s, 2, at(2026, 1, 11), fr=at(2026, 1, 11) + 3 * H, status="waiting")
        _ticket(s, 3, at(2026, 1, 11), fr=at(2026, 1, 11) + 5 * H, status="waiting")
        _ticket(s, 4, at(2026, 1, 12))
        _ticket(s, 5, at(2025, 12, 12), fr=at(2025, 12, 12) + 100 * H, status="waiting")
    return migrated_db


def _as_map(rows):
    return {r["code"]: r["count"] for r in rows}


def test_bilan_matches_hand_computation(hand_dataset):
    b = compute_bilan(dt.date(2026, 1, 1), dt.date(2026, 2, 28))
    assert b["total"] == 4
    assert _as_map(b["category"]) == {"a": 2, "b": 0, "c": 1, "d": 0, None: 1}
    assert _as_map(b["profile"]) == {"IND": 2, "HCP": 1, "NCP": 0, "SSF": 0, "SSA": 0, "OTH": 0, "UNK": 1}
    assert _as_map(b["origin"]) == {"FR": 1, "UK_BE_DE_ES_PL": 1, "OTHER_EU_EEA": 1, "CH": 0, "THIRD": 0, "UNKNOWN": 1}
    assert _as_map(b["outcome"])["escalated"] == 1 and _as_map(b["outcome"])["answered"] == 2
    assert b["category"][-1]["code"] is None and b["profile"][-1]["code"] == "UNK"  # unknown last
    for dim in ("category", "profile", "origin", "outcome"):
        assert sum(r["count"] for r in b[dim]) == b["total"]  # one denominator
    assert b["escalation_rate"] == pytest.approx(0.25)
    assert (b["fallback_turns"], b["user_turns"]) == (3, 10)
    assert b["monthly"] == [{"month": "2026-01", "enquiries": 3, "answered": 1, "escalated": 1},
                            {"month": "2026-02", "enquiries": 1, "answered": 1, "escalated": 0}]
    assert b["top_questions"] == [{"code": "A1", "count": 2}, {"code": "C1", "count": 1}, {"code": "C4", "count": 1}]
    assert b["top_unanswered"] == [{"text": "quel temps", "count": 3}]
    assert b["tickets"] == {"created": 4, "by_status": {"new": 1, "open": 0, "waiting": 2, "resolved": 1}}
    fr = b["first_response"]
    assert fr["n"] == 3
    assert fr["median_s"] == pytest.approx(3 * 3600, abs=1)
    assert fr["p90_s"] == pytest.approx(4.6 * 3600, abs=1)  # linear interpolation between 3 h and 5 h
    assert b["resolution"]["n"] == 1 and b["resolution"]["median_s"] == pytest.approx(10 * 3600, abs=1)


def test_bilan_period_bounds_and_empty(hand_dataset):
    b = compute_bilan(dt.date(2026, 1, 31), dt.date(2026, 1, 31))  # end date included
    assert b["total"] == 1 and _as_map(b["category"])[None] == 1
    empty = compute_bilan(dt.date(2020, 1, 1), dt.date(2020, 6, 30))
    assert empty["total"] == 0 and empty["escalation_rate"] is None and empty["first_response"]["median_s"] is None


def test_enquiry_category_is_first_categorised_question(migrated_db):
    """Migration 0002's trigger keeps enquiries.category whoever writes the questions."""
    from db.repositories import enquiries as repo

    repo.start_enquiry("t1", "conv-t1", "web", "fr")
    repo.record_question("t1", "bonjour ?", "nlu_fallback", 0.2, None, None, "not_understood")
    repo.record_question("t1", "soins en Espagne ?", "q_c1", 0.9, "C1", "c", "answered")
    repo.record_question("t1", "autorisation ?", "q_b1", 0.9, "B1", "b", "answered")
    with session_scope() as s:
        assert s.get(Enquiry, "t1").category == "c"
    today = dt.datetime.now(UTC).date()
    b = compute_bilan(today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    assert _as_map(b["category"]) == {"a": 0, "b": 0, "c": 1, "d": 0, None: 0}
