"""Storage of received e-mails (parsed by mail/): new tickets, threads, the inbound log.

Every mail is stored once: ``mail_inbound.message_key`` (sha256 of the
Message-ID, or of the bytes) is unique, and each step is idempotent, so a
mail delivered twice (SMTP retry, IMAP poll after a crash) changes nothing
the second time.

* a new mail → an enquiry (channel e-mail) with one redacted question, a
  ticket (with an acknowledgement in the outbox) and the mail as the first
  ``inbound`` message of the thread, with its attachments;
* a reply (reference in the subject, or In-Reply-To/References naming one of
  the thread's messages) → an ``inbound`` message of that ticket, which
  reopens it when it was waiting or resolved;
* an auto-reply or a bounce → an ``auto`` message when it belongs to a
  thread (the agent sees a delivery failure), never a new ticket, never an
  answer, never a reopen; a mail from the desk's own address (a loop) is only logged.
"""
from __future__ import annotations

import dataclasses
import re
import uuid
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import requests
from core import vocabulary as vocab
from db.models import (Enquiry, EnquiryQuestion, MailInbound, MailOutbox, Ticket, TicketAttachment, TicketAudit,
                       TicketMessage, utcnow)
from db.repositories.enquiries import _country
from db.repositories.tickets import TicketDraft, create_ticket
from db.session import session_scope

REFERENCE = re.compile(r"\bPCN-\d{4}-\d{6}\b")
QUESTION_MAX_CHARS = 2000


@dataclasses.dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes
    sha256: str


@dataclasses.dataclass
class StoredMail:
    """A received mail as the desk keeps it: texts already redacted, suggestions made."""

    message_key: str
    source: str                      # smtp | imap
    size: int
    from_addr: Optional[str]
    subject: str                     # redacted
    body: str                        # redacted
    message_id: Optional[str] = None
    references: List[str] = dataclasses.field(default_factory=list)  # In-Reply-To + References
    language: Optional[str] = None
    auto: Optional[str] = None       # why it is an auto-reply / bounce / loop (never answered)
    flags: Dict[str, Any] = dataclasses.field(default_factory=dict)
    attachments: List[Attachment] = dataclasses.field(default_factory=list)
    intent: Optional[str] = None
    confidence: Optional[float] = None
    question_code: Optional[str] = None
    category: Optional[str] = None
    profile: Optional[str] = None
    origin_country: Optional[str] = None
    treatment_country: Optional[str] = None


def already_received(message_key: str) -> bool:
    with session_scope() as s:
        return s.scalar(select(MailInbound.id).where(MailInbound.message_key == message_key)) is not None


def find_thread(subject: str, references: List[str]) -> Optional[int]:
    """The ticket a mail answers: a Message-ID of its thread (ours or the requester's), else a reference."""
    refs = [r for r in references if r]
    with session_scope() as s:
        if refs:
            found = s.scalar(select(MailOutbox.ticket_id).where(MailOutbox.message_id.in_(refs)).limit(1))
            found = found or s.scalar(select(TicketMessage.ticket_id).where(
                TicketMessage.mail_message_id.in_(refs)).limit(1))
            if found:
                return found
        for reference in REFERENCE.findall(subject or ""):
            found = s.scalar(select(Ticket.id).where(Ticket.reference == reference))
            if found:
                return found
    return None


def _log(s, mail: StoredMail, disposition: str, ticket_id: Optional[int]) -> None:
    s.add(MailInbound(received_at=utcnow(), source=mail.source, message_key=mail.message_key, size=mail.size,
                      disposition=disposition, flags=mail.flags or None, ticket_id=ticket_id))


def _add_message(s, ticket_id: int, mail: StoredMail, kind: str) -> TicketMessage:
    m = TicketMessage(ticket_id=ticket_id, kind=kind, author_id=None, subject=(mail.subject or "")[:300],
                      body=mail.body or "", mail_message_id=mail.message_id, flags=mail.flags or None,
                      created_at=utcnow())
    s.add(m)
    s.flush()
    for a in mail.attachments:
        s.add(TicketAttachment(ticket_id=ticket_id, message_id=m.id, filename=a.filename[:255],
                               content_type=a.content_type[:100], size=len(a.data), sha256=a.sha256, data=a.data,
                               created_at=utcnow()))
    return m


def log_only(mail: StoredMail, disposition: str) -> None:
    """An auto-reply or a loop that belongs to no ticket: recorded, nothing else."""
    try:
        with session_scope() as s:
            _log(s, mail, disposition, None)
    except IntegrityError:
        pass  # already logged


def add_to_thread(ticket_id: int, mail: StoredMail) -> str:
    """The requester's reply (or an auto-reply) joins the ticket; a reply reopens a waiting/resolved ticket."""
    kind = "auto" if mail.auto else "inbound"
    try:
        with session_scope() as s:
            _log(s, mail, "auto" if mail.auto else "thread", ticket_id)
            s.flush()  # the unique message key: a second delivery stops here
            ticket = s.get(Ticket, ticket_id, with_for_update=s.get_bind().dialect.name == "postgresql")
            m = _add_message(s, ticket_id, mail, kind)
            now = utcnow()
            s.add(TicketAudit(ticket_id=ticket_id, at=now, user_id=None, action="mail_received",
                              detail={"message_id": m.id, "kind": kind, "flags": sorted(mail.flags)}))
            if kind == "inbound" and ticket.status in ("waiting", "resolved"):
                s.add(TicketAudit(ticket_id=ticket_id, at=now, user_id=None, action="status",
                                  detail={"from": ticket.status, "to": "open", "by": "requester"}))
                ticket.status, ticket.resolved_at = "open", None
            ticket.updated_at = now
            return ticket.reference
    except IntegrityError:
        with session_scope() as s:
            return s.get(Ticket, ticket_id).reference


def store_new_ticket(mail: StoredMail) -> str:
    """Enquiry + ticket (+ acknowledgement) + first message; returns the reference. Idempotent."""
    enquiry_id = uuid.uuid5(uuid.NAMESPACE_URL, "pcn-mail:" + mail.message_key).hex
    origin, treatment = _safe_country(mail.origin_country), _safe_country(mail.treatment_country)
    profile = mail.profile if mail.profile in vocab.codes("profiles") else "UNK"
    category = mail.category if mail.category in vocab.codes("categories") else None
    question = (mail.subject + "\n\n" + mail.body).strip()[:QUESTION_MAX_CHARS]
    now = utcnow()
    with session_scope() as s:
        if s.get(Enquiry, enquiry_id) is None:
            s.add(Enquiry(id=enquiry_id, conversation_id=f"email-{enquiry_id[:12]}", started_at=now, ended_at=now,
                          channel="email", language=mail.language, profile=profile, origin_country=origin,
                          origin_group=vocab.bilan_group(origin), treatment_country=treatment,
                          outcome="escalated", user_turns=1, fallback_turns=0, category=category,
                          bilan_status=requests.REQUEST))
            s.flush()
            s.add(EnquiryQuestion(enquiry_id=enquiry_id, asked_at=now, text_redacted=question, intent=mail.intent,
                                  confidence=mail.confidence, question_code=mail.question_code, category=category,
                                  outcome="handoff_offered"))
    ticket = create_ticket(TicketDraft(
        idempotency_key="mail:" + mail.message_key, enquiry_id=enquiry_id, conversation_id=None, channel="email",
        source="mail", language=mail.language, category=category, question_code=mail.question_code,
        profile=profile, origin_country=origin, treatment_country=treatment, question_text=question,
        contact_email=mail.from_addr, consent_at=None, transcript=[], created_at=now,
        acknowledge=bool(mail.from_addr), ack_in_reply_to=mail.message_id))
    try:
        with session_scope() as s:
            _log(s, mail, "new_ticket", ticket.id)
            s.flush()
            _add_message(s, ticket.id, mail, "inbound")
    except IntegrityError:
        pass  # this mail was stored already (second delivery)
    return ticket.reference


def _safe_country(code: Optional[str]) -> Optional[str]:
    try:
        return _country(code)
    except ValueError:
        return None
