"""Tickets: escalations from the assistant's escalation form, e-mails and agents' entries.

Every new ticket with a contact address gets an acknowledgement e-mail with
its reference, queued in the outbox in the same transaction (db/repositories/outbox.py).

``create_ticket(draft)`` is idempotent on ``draft.idempotency_key``: a retry,
a double click or a replay from the spool returns the ticket already stored
instead of creating a second one. The guarantee holds across threads and
processes: the key is UNIQUE in the database and a losing concurrent insert
(IntegrityError) re-selects the winner's row.

The reference ``PCN-<year>-<id:06d>`` is derived from the row id in the same
transaction as the insert (year of ``created_at``, UTC), so it is unique and
never visible half-made.
"""
from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import vocabulary as vocabularies
from core.countries import iso2_code
from db.models import Enquiry, Ticket, TicketAudit, utcnow
from db.repositories.enquiries import mark_escalated
from db.repositories.outbox import enqueue_ack
from db.session import session_scope

REFERENCE_PREFIX = "PCN"


def make_reference(ticket_id: int, created_at: datetime) -> str:
    """``PCN-2026-000123``."""
    return f"{REFERENCE_PREFIX}-{created_at.astimezone(timezone.utc).year:04d}-{ticket_id:06d}"


def make_idempotency_key(*parts: Any) -> str:
    """A stable key from the parts that identify one submission, e.g.
    ``make_idempotency_key(conversation_id, form_started_event_timestamp)``."""
    raw = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _dt_to_json(value: Optional[datetime]) -> Optional[str]:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()


def _dt_from_json(value: Optional[str]) -> Optional[datetime]:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclasses.dataclass
class TicketDraft:
    """Everything the escalation form collected. Texts must already be redacted
    (``core.privacy.redact``); the contact e-mail is kept only on the ticket.

    ``transcript``: list of ``{"sender": "user"|"bot", "text": str, "at": ISO-8601 str}``.
    ``created_at``: time of submission (kept when the draft is replayed from the spool).
    """

    idempotency_key: str
    conversation_id: Optional[str] = None
    enquiry_id: Optional[str] = None
    language: Optional[str] = None
    category: Optional[str] = None
    question_code: Optional[str] = None
    profile: Optional[str] = None
    origin_country: Optional[str] = None
    origin_group: Optional[str] = None  # derived from origin_country when None
    treatment_country: Optional[str] = None
    question_text: Optional[str] = None
    contact_email: Optional[str] = None
    consent_at: Optional[datetime] = None
    transcript: List[Dict[str, Any]] = dataclasses.field(default_factory=list)
    created_at: datetime = dataclasses.field(default_factory=utcnow)
    channel: str = "web"           # content/vocabularies.yml: channels
    source: str = "assistant"      # who opened it (audit): assistant | mail | agent
    acknowledge: bool = True       # e-mail the requester its reference (outbox; never for auto-replies)
    ack_in_reply_to: Optional[str] = None  # Message-ID the acknowledgement answers (a mail)

    def to_dict(self) -> Dict[str, Any]:
        data = dataclasses.asdict(self)
        data["consent_at"] = _dt_to_json(self.consent_at)
        data["created_at"] = _dt_to_json(self.created_at)
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "TicketDraft":
        names = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in names}
        values["consent_at"] = _dt_from_json(values.get("consent_at"))
        created_at = _dt_from_json(values.get("created_at"))
        if created_at is None:
            values.pop("created_at", None)
        else:
            values["created_at"] = created_at
        return cls(**values)


def _validate(draft: TicketDraft) -> None:
    if not draft.idempotency_key or len(draft.idempotency_key) > 128:
        raise ValueError("idempotency_key must be 1..128 characters")
    vocabularies.check("categories", draft.category)
    vocabularies.check("profiles", draft.profile)
    vocabularies.check("channels", draft.channel, allow_none=False)
    if draft.origin_group is not None and draft.origin_group not in vocabularies.GROUPS:
        raise ValueError(f"unknown origin_group {draft.origin_group!r}")


def get_ticket_by_key(idempotency_key: str) -> Optional[Ticket]:
    with session_scope() as session:
        return session.scalars(
            select(Ticket).where(Ticket.idempotency_key == idempotency_key)
        ).first()


def create_ticket(draft: TicketDraft) -> Ticket:
    """Store the draft as a ``new`` ticket, or return the one already stored
    under the same idempotency key. Also marks the enquiry ``escalated`` and
    writes a ``created`` audit entry. Raises on database errors (see
    ``db.spool.create_ticket_or_spool`` for the no-loss wrapper)."""
    _validate(draft)
    existing = get_ticket_by_key(draft.idempotency_key)
    if existing is not None:
        return existing

    origin_country = iso2_code(draft.origin_country)
    origin_group = draft.origin_group or vocabularies.bilan_group(origin_country)
    created_at = draft.created_at or utcnow()
    try:
        with session_scope() as session:
            enquiry_id = draft.enquiry_id
            if enquiry_id is not None and session.get(Enquiry, enquiry_id) is None:
                enquiry_id = None  # enquiry not logged (e.g. database was down): keep the ticket
            ticket = Ticket(
                # unique placeholder, replaced below in the same transaction
                reference=f"PENDING-{uuid.uuid4().hex}",
                idempotency_key=draft.idempotency_key,
                enquiry_id=enquiry_id,
                conversation_id=draft.conversation_id,
                created_at=created_at,
                updated_at=created_at,
                status="new",
                language=draft.language,
                category=draft.category,
                question_code=draft.question_code,
                profile=draft.profile or "UNK",
                origin_country=origin_country,
                origin_group=origin_group,
                treatment_country=iso2_code(draft.treatment_country),
                question_text=draft.question_text,
                contact_email=draft.contact_email,
                consent_at=draft.consent_at,
                transcript=list(draft.transcript or []),
                channel=draft.channel,
            )
            session.add(ticket)
            session.flush()  # assigns ticket.id; raises IntegrityError on a duplicate key
            ticket.reference = make_reference(ticket.id, created_at)
            session.add(
                TicketAudit(
                    ticket_id=ticket.id,
                    at=utcnow(),
                    user_id=None,
                    action="created",
                    detail={"source": draft.source, "channel": draft.channel, "enquiry_id": enquiry_id},
                )
            )
            if enquiry_id is not None:
                mark_escalated(enquiry_id, session=session)
            if draft.acknowledge:
                enqueue_ack(session, ticket, draft.ack_in_reply_to)
        return ticket
    except IntegrityError:
        # Lost a race with an identical submission: return the winner's ticket.
        existing = get_ticket_by_key(draft.idempotency_key)
        if existing is None:
            raise
        return existing
