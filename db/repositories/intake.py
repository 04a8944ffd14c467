"""Enquiries that do not come through the chat: phone calls, letters, walk-ins
(recorded by an agent from the console) and e-mails (mail/).

Each becomes one enquiry of the bilan (channel, language, question type and
category, profile, origin, country of treatment, outcome) with one question
whose text is redacted (``core.privacy.redact``); a ticket may be opened from
it. The enquiry is a request by construction (core/requests.py).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Optional

from core import vocabulary as vocab
from core.content import load_answers
from core.privacy import redact
from db.models import DeskUser, Enquiry, EnquiryQuestion, utcnow
from db.repositories.enquiries import _country
from db.session import session_scope

AGENT_CHANNELS = ("phone", "letter", "walk_in")
# What the agent says happened -> the question's outcome in the log.
_QUESTION_OUTCOME = {"answered_by_agent": "answered", "out_of_scope": "out_of_scope", "escalated": "handoff_offered"}
NOTE_MAX_CHARS = 500


class IntakeError(ValueError):
    def __init__(self, code: str, message: str = "", **params) -> None:
        self.code, self.params = code, params
        super().__init__(message or code)


@dataclasses.dataclass
class AgentEntry:
    """What an agent records for a call, a letter or a visit."""

    channel: str                       # phone | letter | walk_in
    received_on: dt.date
    language: str = "fr"
    question_code: Optional[str] = None
    category: Optional[str] = None     # derived from question_code when it is given
    profile: str = "UNK"
    origin_country: Optional[str] = None
    treatment_country: Optional[str] = None
    outcome: str = "answered_by_agent"  # answered_by_agent | out_of_scope | escalated
    note: str = ""                     # short; no identifiers (redacted anyway)


def _check(entry: AgentEntry) -> tuple[Optional[str], Optional[str], Optional[str]]:
    if entry.channel not in AGENT_CHANNELS:
        raise IntakeError("unknown_code", f"channel {entry.channel!r}", value=entry.channel)
    if entry.outcome not in _QUESTION_OUTCOME:
        raise IntakeError("unknown_code", f"outcome {entry.outcome!r}", value=entry.outcome)
    if entry.received_on > dt.datetime.now(dt.timezone.utc).date():
        raise IntakeError("future_date", "the date is in the future")
    if len(entry.note or "") > NOTE_MAX_CHARS:
        raise IntakeError("note_too_long", "note too long", max=NOTE_MAX_CHARS)
    vocab.check("profiles", entry.profile or "UNK")
    category = entry.category
    if entry.question_code:
        qt = load_answers().get(entry.question_code)
        if qt is None:
            raise IntakeError("unknown_code", f"question type {entry.question_code!r}", value=entry.question_code)
        category = qt.category
    vocab.check("categories", category)
    try:
        return category, _country(entry.origin_country), _country(entry.treatment_country)
    except ValueError as exc:
        raise IntakeError("bad_country", str(exc)) from exc


def record_agent_entry(entry: AgentEntry, user_id: int) -> str:
    """Store the entry as an enquiry (and its question); returns the enquiry id."""
    category, origin, treatment = _check(entry)
    now = utcnow()
    started = now if entry.received_on == now.date() else dt.datetime.combine(
        entry.received_on, dt.time(12), tzinfo=dt.timezone.utc)
    enquiry_id = uuid.uuid4().hex
    with session_scope() as s:
        user = s.get(DeskUser, user_id)
        if user is None or not user.active:
            raise IntakeError("forbidden", "unknown or disabled user")
        s.add(Enquiry(id=enquiry_id, conversation_id=f"{entry.channel}-{enquiry_id[:12]}", started_at=started,
                      ended_at=started, channel=entry.channel, language=entry.language, profile=entry.profile or "UNK",
                      origin_country=origin, origin_group=vocab.bilan_group(origin), treatment_country=treatment,
                      outcome=entry.outcome, user_turns=1, fallback_turns=0, category=category, bilan_status="request"))
        s.flush()
        s.add(EnquiryQuestion(enquiry_id=enquiry_id, asked_at=started,
                              text_redacted=redact(entry.note.strip()) if entry.note and entry.note.strip() else None,
                              intent=None, confidence=None, question_code=entry.question_code, category=category,
                              outcome=_QUESTION_OUTCOME[entry.outcome]))
    return enquiry_id
