"""Enquiry log repository on SQLite and PostgreSQL."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from db.models import Enquiry, EnquiryQuestion, utcnow
from db.repositories import enquiries as repo
from db.session import session_scope
from core.vocabulary import bilan_group


def _new(channel="web", language="fr", **kwargs) -> str:
    enquiry_id = str(uuid.uuid4())
    repo.start_enquiry(enquiry_id, f"conv-{enquiry_id[:8]}", channel, language, **kwargs)
    return enquiry_id


def _get(enquiry_id) -> Enquiry:
    enquiry = repo.get_enquiry(enquiry_id)
    assert enquiry is not None
    return enquiry


def test_db_start_enquiry_defaults_and_idempotence(migrated_db):
    enquiry_id = _new()
    repo.start_enquiry(enquiry_id, "other-conversation", "rest", "en")  # second call: no change
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Enquiry)) == 1
    enquiry = _get(enquiry_id)
    assert enquiry.conversation_id.startswith("conv-")
    assert (enquiry.channel, enquiry.language) == ("web", "fr")
    assert (enquiry.profile, enquiry.origin_group, enquiry.outcome) == ("UNK", "UNKNOWN", "abandoned")
    assert enquiry.user_turns == 0 and enquiry.fallback_turns == 0
    assert enquiry.ended_at is None and enquiry.feedback_helpful is None
    assert enquiry.started_at.tzinfo is not None
    assert abs((utcnow() - enquiry.started_at).total_seconds()) < 60


def test_db_timestamps_are_utc_aware_on_both_backends(migrated_db):
    paris_summer = timezone(timedelta(hours=2))
    started = datetime(2026, 6, 1, 10, 30, 15, 123456, tzinfo=paris_summer)
    enquiry_id = _new(started_at=started)
    stored = _get(enquiry_id).started_at
    assert stored == started
    assert stored.utcoffset() == timedelta(0)
    assert stored.hour == 8
    naive = _new(started_at=datetime(2026, 1, 2, 3, 4, 5))  # naive = UTC
    assert _get(naive).started_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    with session_scope() as session:  # range queries compare correctly (bilan periods)
        count = session.scalar(
            select(func.count()).select_from(Enquiry).where(
                Enquiry.started_at >= datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc),
                Enquiry.started_at < datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc),
            )
        )
    assert count == 1


def test_db_start_enquiry_rejects_unknown_channel(migrated_db):
    with pytest.raises(ValueError):
        repo.start_enquiry(str(uuid.uuid4()), "c", "carrier-pigeon", "fr")


def test_db_record_question(migrated_db):
    enquiry_id = _new()
    repo.record_question(enquiry_id, "Puis-je me faire soigner en [PLACE] ?", "q_a1_right_to_care", 0.93, "A1", "a", "answered")
    repo.record_question(enquiry_id, "blabla", "nlu_fallback", 0.2, None, None, "not_understood")
    enquiry = _get(enquiry_id)
    assert [q.outcome for q in enquiry.questions] == ["answered", "not_understood"]
    first = enquiry.questions[0]
    assert (first.intent, first.question_code, first.category) == ("q_a1_right_to_care", "A1", "a")
    assert first.confidence == pytest.approx(0.93)
    assert first.asked_at.tzinfo is not None
    assert enquiry.user_turns == 2 and enquiry.fallback_turns == 1
    assert enquiry.outcome == "answered"


def test_db_record_question_validates_codes_and_enquiry(migrated_db):
    enquiry_id = _new()
    with pytest.raises(ValueError):
        repo.record_question(enquiry_id, "x", "i", 0.5, None, None, "maybe")
    with pytest.raises(ValueError):
        repo.record_question(enquiry_id, "x", "i", 0.5, "Z9", "z", "answered")
    with pytest.raises(repo.EnquiryNotFound):
        repo.record_question("missing", "x", "i", 0.5, None, None, "answered")


def test_db_update_requester(migrated_db):
    enquiry_id = _new()
    repo.update_requester(enquiry_id, profile="HCP")
    repo.update_requester(enquiry_id, origin_country="be", treatment_country="DE", language="en")
    enquiry = _get(enquiry_id)
    assert (enquiry.profile, enquiry.origin_country, enquiry.origin_group) == ("HCP", "BE", "UK_BE_DE_ES_PL")
    assert (enquiry.treatment_country, enquiry.language) == ("DE", "en")
    repo.update_requester(enquiry_id)  # nothing given: nothing changes
    assert _get(enquiry_id).profile == "HCP"
    with pytest.raises(ValueError):
        repo.update_requester(enquiry_id, profile="ALIEN")
    with pytest.raises(ValueError):
        repo.update_requester(enquiry_id, origin_country="Belgium")
    with pytest.raises(repo.EnquiryNotFound):
        repo.update_requester("missing", profile="IND")


@pytest.mark.parametrize(
    "iso2, group",
    [("FR", "FR"), ("GB", "UK_BE_DE_ES_PL"), ("UK", "UK_BE_DE_ES_PL"), ("PL", "UK_BE_DE_ES_PL"),
     ("IT", "OTHER_EU_EEA"), ("NO", "OTHER_EU_EEA"), ("CH", "CH"), ("US", "THIRD"), (None, "UNKNOWN")],
)
def test_db_bilan_group(iso2, group):
    assert bilan_group(iso2) == group


def test_db_record_feedback(migrated_db):
    enquiry_id = _new()
    repo.record_feedback(enquiry_id, True)
    assert _get(enquiry_id).feedback_helpful is True
    repo.record_feedback(enquiry_id, False)
    assert _get(enquiry_id).feedback_helpful is False
    with pytest.raises(repo.EnquiryNotFound):
        repo.record_feedback("missing", True)


@pytest.mark.parametrize(
    "outcomes, expected",
    [
        ([], "abandoned"),
        (["handoff_offered"], "abandoned"),  # agent offered, escalation cancelled
        (["not_understood"], "not_understood"),
        (["not_understood", "out_of_scope"], "out_of_scope"),
        (["out_of_scope", "answered", "not_understood"], "answered"),
        (["handoff_offered", "answered"], "answered"),
    ],
)
def test_db_touch_recomputes_outcome(migrated_db, outcomes, expected):
    enquiry_id = _new()
    for outcome in outcomes:
        repo.record_question(enquiry_id, "q", "i", 0.9, None, None, outcome)
    repo.touch(enquiry_id)
    enquiry = _get(enquiry_id)
    assert enquiry.outcome == expected
    assert enquiry.ended_at is not None and enquiry.ended_at.tzinfo is not None


def test_db_touch_counters_and_missing(migrated_db):
    enquiry_id = _new()
    repo.touch(enquiry_id, user_turns=5, fallback_turns=2)
    enquiry = _get(enquiry_id)
    assert (enquiry.user_turns, enquiry.fallback_turns) == (5, 2)
    first_end = enquiry.ended_at
    repo.touch(enquiry_id)
    assert _get(enquiry_id).ended_at >= first_end
    with pytest.raises(repo.EnquiryNotFound):
        repo.touch("missing")


def test_db_mark_escalated_has_precedence(migrated_db):
    enquiry_id = _new()
    repo.record_question(enquiry_id, "q", "i", 0.9, "A1", "a", "answered")
    repo.mark_escalated(enquiry_id)
    repo.record_question(enquiry_id, "q2", "i", 0.9, None, None, "not_understood")
    repo.touch(enquiry_id)
    assert _get(enquiry_id).outcome == "escalated"
    with pytest.raises(repo.EnquiryNotFound):
        repo.mark_escalated("missing")


def test_db_compute_outcome_precedence():
    assert repo.compute_outcome(["answered"], escalated=True) == "escalated"
    assert repo.compute_outcome(["not_understood", "answered"], escalated=False) == "answered"
    assert repo.compute_outcome(["handoff_offered"], escalated=False) == "abandoned"


def test_db_deleting_an_enquiry_cascades_to_questions(migrated_db):
    enquiry_id = _new()
    repo.record_question(enquiry_id, "q", "i", 0.9, None, None, "answered")
    with session_scope() as session:
        session.delete(session.get(Enquiry, enquiry_id))
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(EnquiryQuestion)) == 0
