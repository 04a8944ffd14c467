"""Enquiry log: one row per conversation session, plus its questions.

All functions open their own session and commit. They raise on database
errors; the actions wrap them (a logging failure must never break an answer).
Functions other than ``start_enquiry`` raise ``EnquiryNotFound`` if the
enquiry was never started.

Outcome of an enquiry (recomputed by ``touch``, ``record_question`` and
``mark_escalated``), by precedence:
  escalated      a ticket exists for it (``mark_escalated`` / ``create_ticket``)
  answered       at least one question answered by the assistant
  out_of_scope   at least one out-of-scope question
  not_understood at least one question not understood
  abandoned      no question at all, or only ``handoff_offered`` questions and
                 no ticket (the escalation was offered but cancelled / left)
Log a BOT_H answer as ``answered`` (an answer was given, then an agent
offered); ``handoff_offered`` means only an agent was offered (H route,
"I want a human", failed fallback).
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import vocabulary as vocabularies
from db.models import Enquiry, EnquiryQuestion, Ticket, utcnow
from db.session import session_scope

OUTCOME_PRECEDENCE = ("escalated", "answered", "out_of_scope", "not_understood", "abandoned")


class EnquiryNotFound(LookupError):
    """The enquiry id is unknown (``start_enquiry`` was not called or failed)."""


def _country(code: Optional[str]) -> Optional[str]:
    if code is None:
        return None
    code = code.strip().upper()
    if code == "UK":
        code = "GB"
    if len(code) != 2 or not code.isalpha():
        raise ValueError(f"ISO 3166 alpha-2 country code expected, got {code!r}")
    return code


def _get(session: Session, enquiry_id: str) -> Enquiry:
    enquiry = session.get(Enquiry, enquiry_id)
    if enquiry is None:
        raise EnquiryNotFound(enquiry_id)
    return enquiry


def compute_outcome(question_outcomes: Iterable[str], escalated: bool) -> str:
    """Enquiry outcome from its questions' outcomes (see the module docstring)."""
    if escalated:
        return "escalated"
    seen = set(question_outcomes)
    for outcome in ("answered", "out_of_scope", "not_understood"):
        if outcome in seen:
            return outcome
    return "abandoned"


def _recompute(session: Session, enquiry: Enquiry) -> str:
    escalated = enquiry.outcome == "escalated" or (
        session.execute(select(Ticket.id).where(Ticket.enquiry_id == enquiry.id).limit(1)).first()
        is not None
    )
    outcomes = session.scalars(
        select(EnquiryQuestion.outcome).where(EnquiryQuestion.enquiry_id == enquiry.id)
    ).all()
    enquiry.outcome = compute_outcome(outcomes, escalated)
    return enquiry.outcome


def start_enquiry(
    enquiry_id: str,
    conversation_id: str,
    channel: str,
    language: Optional[str],
    started_at: Optional[datetime] = None,
) -> None:
    """Create the enquiry if it does not exist yet (idempotent; a second call changes nothing)."""
    vocabularies.check("channels", channel, allow_none=False)
    try:
        with session_scope() as session:
            if session.get(Enquiry, enquiry_id) is not None:
                return
            session.add(
                Enquiry(
                    id=enquiry_id,
                    conversation_id=conversation_id,
                    channel=channel,
                    language=language,
                    started_at=started_at or utcnow(),
                    profile="UNK",
                    origin_group="UNKNOWN",
                    outcome="abandoned",
                )
            )
    except IntegrityError:
        # Started concurrently by another process: fine if it is there now.
        with session_scope() as session:
            if session.get(Enquiry, enquiry_id) is None:
                raise


def record_question(
    enquiry_id: str,
    text_redacted: Optional[str],
    intent: Optional[str],
    confidence: Optional[float],
    question_code: Optional[str],
    category: Optional[str],
    outcome: str,
    *,
    asked_at: Optional[datetime] = None,
) -> None:
    """Log one question; counts a user turn (and a fallback turn if not understood)."""
    vocabularies.check("question_outcomes", outcome, allow_none=False)
    vocabularies.check("categories", category)
    with session_scope() as session:
        enquiry = _get(session, enquiry_id)
        session.add(
            EnquiryQuestion(
                enquiry_id=enquiry_id,
                asked_at=asked_at or utcnow(),
                text_redacted=text_redacted,
                intent=intent,
                confidence=None if confidence is None else float(confidence),
                question_code=question_code,
                category=category,
                outcome=outcome,
            )
        )
        enquiry.user_turns = (enquiry.user_turns or 0) + 1
        if outcome == "not_understood":
            enquiry.fallback_turns = (enquiry.fallback_turns or 0) + 1
        session.flush()
        _recompute(session, enquiry)


def update_requester(
    enquiry_id: str,
    profile: Optional[str] = None,
    origin_country: Optional[str] = None,
    treatment_country: Optional[str] = None,
    language: Optional[str] = None,
) -> None:
    """Set what is known of the requester; ``None`` leaves a field unchanged.

    ``origin_group`` is derived from ``origin_country`` (``core.countries.bilan_group``).
    """
    vocabularies.check("profiles", profile)
    origin_country = _country(origin_country)
    treatment_country = _country(treatment_country)
    with session_scope() as session:
        enquiry = _get(session, enquiry_id)
        if profile is not None:
            enquiry.profile = profile
        if origin_country is not None:
            enquiry.origin_country = origin_country
            enquiry.origin_group = vocabularies.bilan_group(origin_country)
        if treatment_country is not None:
            enquiry.treatment_country = treatment_country
        if language is not None:
            enquiry.language = language


def record_feedback(enquiry_id: str, helpful: bool) -> None:
    """The requester's answer to "was this helpful?" (the last one wins)."""
    with session_scope() as session:
        _get(session, enquiry_id).feedback_helpful = bool(helpful)


def touch(
    enquiry_id: str,
    *,
    user_turns: Optional[int] = None,
    fallback_turns: Optional[int] = None,
    ended_at: Optional[datetime] = None,
) -> None:
    """End of a turn: ``ended_at`` (default now; the time of the turn when it is
    written later, after a database outage) and the outcome recomputed.

    ``user_turns`` / ``fallback_turns``, if given, overwrite the counters (e.g.
    counted from the tracker); otherwise ``record_question`` maintains them.
    """
    with session_scope() as session:
        enquiry = _get(session, enquiry_id)
        enquiry.ended_at = max(filter(None, (enquiry.ended_at, ended_at or utcnow())))
        if user_turns is not None:
            enquiry.user_turns = int(user_turns)
        if fallback_turns is not None:
            enquiry.fallback_turns = int(fallback_turns)
        _recompute(session, enquiry)


def mark_escalated(enquiry_id: str, session: Optional[Session] = None) -> None:
    """Set the outcome to ``escalated`` (``create_ticket`` calls it in its own transaction)."""
    if session is not None:
        enquiry = session.get(Enquiry, enquiry_id)
        if enquiry is not None:
            enquiry.outcome = "escalated"
            enquiry.ended_at = enquiry.ended_at or utcnow()
        return
    with session_scope() as own:
        enquiry = _get(own, enquiry_id)
        enquiry.outcome = "escalated"
        enquiry.ended_at = enquiry.ended_at or utcnow()


def get_enquiry(enquiry_id: str) -> Optional[Enquiry]:
    """The enquiry with its questions loaded (detached), or None."""
    with session_scope() as session:
        enquiry = session.get(Enquiry, enquiry_id)
        if enquiry is not None:
            list(enquiry.questions)  # load before the session closes
        return enquiry
