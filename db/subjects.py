"""Data-subject rights for one requester: access (export) and erasure (GDPR arts 15, 17).

A requester is found by the e-mail address they gave or by a ticket reference; a
reference brings the other tickets with the same address (the same requester). What
belongs to them: their tickets (with replies and notes), the enquiries those tickets
came from (coded facts and masked question texts), their conversations in Rasa's
``events`` table (redacted) and any ticket still waiting in the spool.

* ``find_requester`` — what would be exported or erased (shown before acting);
* ``export_requester`` — all of it as one JSON-ready dict;
* ``erase_requester`` — tickets keep only their codes (category, profile, origin,
  dates: the bilan's counts stay right) and get ``purged_at``; the address, the texts,
  the idempotency key (a hash of the address), the enquiries' question texts and
  link, the conversations and spooled drafts are deleted.

Each export and erasure writes a ``privacy_audit`` row naming the actor; the subject
is the reference or a masked address ("j…@example.org"), never the address.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from sqlalchemy import func, or_, select, update

from db.models import Enquiry, EnquiryQuestion, PrivacyAudit, Ticket, TicketMessage, utcnow
from db.retention import EVENTS, RetentionPolicy, clear_ticket_texts, delete_conversations, has_events_table
from db.session import session_scope


class SubjectError(ValueError):
    """A request that cannot be carried out (message meant for the operator)."""


def mask_email(email: str) -> str:
    local, _, domain = (email or "").strip().partition("@")
    return f"{local[:1]}…@{domain}" if domain else "…"


@dataclass
class Requester:
    email: Optional[str]
    reference: Optional[str]
    ticket_ids: List[int] = field(default_factory=list)
    references: List[str] = field(default_factory=list)
    enquiry_ids: List[str] = field(default_factory=list)
    conversation_ids: List[str] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return self.reference or mask_email(self.email or "")

    @property
    def found(self) -> bool:
        return bool(self.ticket_ids)


def _normalise(email: Optional[str], reference: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    email = (email or "").strip().lower() or None
    reference = (reference or "").strip().upper() or None
    if bool(email) == bool(reference):
        raise SubjectError("give either an e-mail address or a ticket reference")
    if email and "@" not in email:
        raise SubjectError(f"not an e-mail address: {email!r}")
    return email, reference


def find_requester(email: Optional[str] = None, reference: Optional[str] = None) -> Requester:
    email, reference = _normalise(email, reference)
    with session_scope() as s:
        if reference:
            ticket = s.scalar(select(Ticket).where(Ticket.reference == reference))
            if ticket is None:
                return Requester(email=None, reference=reference)
            email = (ticket.contact_email or "").lower() or None
            condition = Ticket.id == ticket.id
            if email:
                condition = or_(condition, func.lower(Ticket.contact_email) == email)
        else:
            condition = func.lower(Ticket.contact_email) == email
        tickets = s.scalars(select(Ticket).where(condition).order_by(Ticket.id)).all()
        requester = Requester(email=email, reference=reference, ticket_ids=[t.id for t in tickets],
                              references=[t.reference for t in tickets],
                              enquiry_ids=sorted({t.enquiry_id for t in tickets if t.enquiry_id}))
        conversations = {t.conversation_id for t in tickets if t.conversation_id}
        if requester.enquiry_ids:
            conversations |= set(s.scalars(select(Enquiry.conversation_id).where(
                Enquiry.id.in_(requester.enquiry_ids), Enquiry.conversation_id != "")))
        requester.conversation_ids = sorted(c for c in conversations if c)
        return requester


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else value


def _conversations(s, conversation_ids: List[str]) -> List[Dict[str, Any]]:
    import json

    if not conversation_ids or not has_events_table(s.connection()):
        return []
    out: Dict[str, List[dict]] = {}
    rows = s.execute(select(EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data)
                     .where(EVENTS.c.sender_id.in_(conversation_ids), EVENTS.c.type_name.in_(["user", "bot"]))
                     .order_by(EVENTS.c.id))
    for sender, kind, timestamp, data in rows:
        text = json.loads(data).get("text")
        if text:
            at = dt.datetime.fromtimestamp(timestamp or 0, tz=dt.timezone.utc).isoformat()
            out.setdefault(sender, []).append({"sender": kind, "text": text, "at": at})
    return [{"conversation_id": c, "messages": m} for c, m in out.items()]


def _audit(s, action: str, actor: str, user_id: Optional[int], requester: Requester, detail: dict) -> None:
    s.add(PrivacyAudit(at=utcnow(), action=action, actor=actor, user_id=user_id, subject=requester.subject,
                       detail=detail))


def export_requester(email: Optional[str] = None, reference: Optional[str] = None, *,
                     actor: str, user_id: Optional[int] = None) -> Dict[str, Any]:
    """Everything the desk holds on the requester, as a JSON-ready dict (audited)."""
    requester = find_requester(email, reference)
    with session_scope() as s:
        tickets = []
        for t in s.scalars(select(Ticket).where(Ticket.id.in_(requester.ticket_ids)).order_by(Ticket.id)):
            messages = s.scalars(select(TicketMessage).where(TicketMessage.ticket_id == t.id).order_by(TicketMessage.id))
            tickets.append({
                **{c: _iso(getattr(t, c)) for c in ("reference", "created_at", "status", "language", "category",
                                                      "question_code", "profile", "origin_country", "treatment_country",
                                                      "question_text", "contact_email", "consent_at", "transcript",
                                                      "first_response_at", "resolved_at", "purged_at")},
                "messages": [{"at": _iso(m.created_at), "kind": m.kind, "subject": m.subject, "body": m.body}
                             for m in messages],
            })
        enquiries = []
        for e in s.scalars(select(Enquiry).where(Enquiry.id.in_(requester.enquiry_ids)).order_by(Enquiry.started_at)):
            questions = s.scalars(select(EnquiryQuestion).where(EnquiryQuestion.enquiry_id == e.id)
                                  .order_by(EnquiryQuestion.id))
            enquiries.append({
                **{c: _iso(getattr(e, c)) for c in ("started_at", "ended_at", "channel", "language", "profile",
                                                      "origin_country", "treatment_country", "outcome",
                                                      "feedback_helpful")},
                "questions": [{"asked_at": _iso(q.asked_at), "text": q.text_redacted, "question_code": q.question_code,
                               "category": q.category, "outcome": q.outcome} for q in questions],
            })
        export = {
            "controller": "Cleiss — Point de contact national (PCN) pour les soins de santé transfrontaliers",
            "generated_at": utcnow().isoformat(),
            "request": {"email": requester.email if email else None, "reference": requester.reference},
            "retention_days": RetentionPolicy.from_settings().__dict__,
            "tickets": tickets,
            "enquiries": enquiries,
            "conversations": _conversations(s, requester.conversation_ids),
            "note": "Identifiers typed in the chat were masked before storage; nothing raw was kept.",
        }
        _audit(s, "export", actor, user_id, requester,
               {"tickets": requester.references, "enquiries": len(enquiries),
                "conversations": len(export["conversations"])})
    return export


def erase_requester(email: Optional[str] = None, reference: Optional[str] = None, *,
                    actor: str, user_id: Optional[int] = None) -> Dict[str, Any]:
    """Erases the requester's personal data (audited); returns what was erased."""
    requester = find_requester(email, reference)
    now = utcnow()
    with session_scope() as s:
        tickets = s.scalars(select(Ticket).where(Ticket.id.in_(requester.ticket_ids))).all()
        clear_ticket_texts(s, tickets, now, user_id, "erased", actor)
        for ticket in tickets:
            ticket.idempotency_key = f"erased-{ticket.id}"   # it hashed the address
        questions = s.execute(update(EnquiryQuestion).where(EnquiryQuestion.enquiry_id.in_(requester.enquiry_ids))
                              .values(text_redacted=None).execution_options(synchronize_session=False)).rowcount or 0
        s.execute(update(Enquiry).where(Enquiry.id.in_(requester.enquiry_ids)).values(conversation_id="")
                  .execution_options(synchronize_session=False))
        events = delete_conversations(s, requester.conversation_ids)
        spooled = _discard_spooled(requester.email) if requester.email else 0
        result = {"tickets": requester.references, "enquiries": len(requester.enquiry_ids),
                  "question_texts": questions, "conversation_events": events, "spooled_drafts": spooled}
        _audit(s, "erasure", actor, user_id, requester, result)
    return result


def _discard_spooled(email: str) -> int:
    from db.spool import discard_drafts

    return discard_drafts(lambda draft: (draft.contact_email or "").strip().lower() == email)


def recent_audit(limit: int = 50) -> List[Dict[str, Any]]:
    with session_scope() as s:
        return [{"at": a.at, "action": a.action, "actor": a.actor, "subject": a.subject, "detail": a.detail}
                for a in s.scalars(select(PrivacyAudit).order_by(PrivacyAudit.id.desc()).limit(limit))]


__all__ = ["Requester", "SubjectError", "find_requester", "export_requester", "erase_requester", "mask_email",
           "recent_audit"]
