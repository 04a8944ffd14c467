"""Retention: what the desk keeps, and for how long (the privacy pages state the same).

Nothing raw is ever stored (bot/tracker_store.py, core/privacy.py). What is stored,
redacted, is kept for these periods (``RetentionPolicy``, from core/settings.py):

=========================================  ==========================================  =======
what                                       cleared when                                default
=========================================  ==========================================  =======
a conversation (Rasa's ``events``)         deleted N days after its last message       30 days
the link statistics → conversation         ``enquiries.conversation_id`` blanked then  30 days
  (``conversation_id``)
a ticket's contact e-mail                  N days after the ticket is resolved         90 days
a ticket's texts (question, transcript,    N days after it is resolved (or last        365 days
  replies, notes)                          touched, if it never was); codes stay
a question's masked text (statistics)      N days after it was asked; codes stay       365 days
=========================================  ==========================================  =======

``run_retention`` applies all of it in one transaction, idempotently, and writes one
``privacy_audit`` row; it also passes spaCy's NER again over the conversations of
the last two days (rows the NER pass, ``redact_new_events``, may have missed while
the action server was stopped). The action server runs it every ``PCN_RETENTION_EVERY_HOURS``
(actions/maintenance.py); ``python -m db retention`` runs it by hand.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, Optional

import sqlalchemy as sa
from sqlalchemy import and_, func, or_, select, update

from core import settings
from db.models import (Enquiry, EnquiryQuestion, MailOutbox, PrivacyAudit, Ticket, TicketAttachment, TicketAudit,
                       TicketMessage, utcnow)
from db.session import session_scope

logger = logging.getLogger(__name__)

RETENTION_ACTOR = "retention job"
NER_CATCH_UP = timedelta(days=2)
# Rasa's table, described just enough to clean it (it is not one of our models).
EVENTS = sa.table("events", sa.column("id", sa.Integer), sa.column("sender_id", sa.String),
                  sa.column("type_name", sa.String), sa.column("timestamp", sa.Float), sa.column("data", sa.Text))


@dataclass(frozen=True)
class RetentionPolicy:
    conversation_days: int = 30
    contact_days: int = 90
    ticket_days: int = 365
    question_text_days: int = 365

    @classmethod
    def from_settings(cls) -> "RetentionPolicy":
        def days(name: str) -> int:
            value = int(settings.get(name))
            if value < 0:
                raise ValueError(f"{name} must be >= 0")
            return value

        return cls(days("PCN_RETENTION_CONVERSATION_DAYS"), days("PCN_RETENTION_CONTACT_DAYS"),
                   days("PCN_RETENTION_TICKET_DAYS"), days("PCN_RETENTION_QUESTION_TEXT_DAYS"))


def has_events_table(connection) -> bool:
    return sa.inspect(connection).has_table("events")


def scrub_audit_errors(session, ticket_ids) -> None:
    """SMTP errors recorded on replies may quote the address ("… a@b.fr refused")."""
    from core.privacy import redact

    for audit in session.scalars(select(TicketAudit).where(TicketAudit.ticket_id.in_(list(ticket_ids)),
                                                           TicketAudit.action == "replied")):
        detail = dict(audit.detail or {})
        if detail.get("error"):
            detail["error"] = redact(str(detail["error"]), use_ner=False)
            audit.detail = detail


def clear_ticket_texts(session, tickets, now: datetime, user_id: Optional[int], action: str, actor: str) -> None:
    """Question, transcript, replies and notes, contact and conversation link: gone; codes stay."""
    ids = [t.id for t in tickets]
    for ticket in tickets:
        ticket.question_text = None
        ticket.transcript = []
        ticket.contact_email = None
        ticket.conversation_id = None
        ticket.purged_at = now
        session.add(TicketAudit(ticket_id=ticket.id, at=now, user_id=user_id, action=action, detail={"by": actor}))
    if ids:
        session.execute(update(TicketMessage).where(TicketMessage.ticket_id.in_(ids))
                        .values(body="", subject=None).execution_options(synchronize_session=False))
        # files received by mail, and e-mails not yet sent or already sent (address, text): gone too
        session.execute(sa.delete(TicketAttachment).where(TicketAttachment.ticket_id.in_(ids))
                        .execution_options(synchronize_session=False))
        session.execute(sa.delete(MailOutbox).where(MailOutbox.ticket_id.in_(ids))
                        .execution_options(synchronize_session=False))
        scrub_audit_errors(session, ids)


def delete_conversations(session, conversation_ids) -> int:
    ids = [c for c in set(conversation_ids) if c]
    if not ids or not has_events_table(session.connection()):
        return 0
    return session.execute(sa.delete(EVENTS).where(EVENTS.c.sender_id.in_(ids))).rowcount or 0


_TYPED_EVENTS = ("user", "slot", "entities")   # the rows that may carry what a user typed


def _redact_rows(session, rows) -> int:
    from core.privacy import redact_event

    changed = 0
    for row_id, raw in rows:
        data = json.loads(raw)
        redacted = redact_event(data, use_ner=True)
        if redacted != data:
            session.execute(sa.update(EVENTS).where(EVENTS.c.id == row_id).values(data=json.dumps(redacted)))
            changed += 1
    return changed


def _redact_recent_events(session, since: datetime) -> int:
    """NER over the rows that carry what users typed, written since ``since``."""
    if not has_events_table(session.connection()):
        return 0
    return _redact_rows(session, session.execute(select(EVENTS.c.id, EVENTS.c.data).where(
        EVENTS.c.timestamp >= since.timestamp(), EVENTS.c.type_name.in_(_TYPED_EVENTS))).all())


def events_watermark(before: datetime, url: Optional[str] = None) -> int:
    """The last event id written before ``before`` (0 if none): where an NER pass starts."""
    with session_scope(url) as session:
        if not has_events_table(session.connection()):
            return 0
        return session.scalar(select(func.max(EVENTS.c.id)).where(EVENTS.c.timestamp < before.timestamp())) or 0


def redact_new_events(after_id: int, *, limit: int = 500, url: Optional[str] = None) -> tuple[int, int]:
    """The NER pass over Rasa's events: rows with an id above ``after_id`` were written
    by the tracker store with the pattern rules only; spaCy's NER now masks the person
    names without a cue. Returns ``(last id seen, rows changed)``; call it again with
    that id. Rows are appended and never rewritten by Rasa, so updating them is safe."""
    with session_scope(url) as session:
        if not has_events_table(session.connection()):
            return after_id, 0
        rows = session.execute(select(EVENTS.c.id, EVENTS.c.data, EVENTS.c.type_name)
                               .where(EVENTS.c.id > after_id).order_by(EVENTS.c.id).limit(limit)).all()
        if not rows:
            return after_id, 0
        changed = _redact_rows(session, [(i, d) for i, d, kind in rows if kind in _TYPED_EVENTS])
        return rows[-1][0], changed


def last_run(url: Optional[str] = None) -> Optional[datetime]:
    with session_scope(url) as session:
        return session.scalar(select(func.max(PrivacyAudit.at)).where(PrivacyAudit.action == "retention"))


def run_retention(now: Optional[datetime] = None, policy: Optional[RetentionPolicy] = None, *,
                  url: Optional[str] = None, dry_run: bool = False, actor: str = RETENTION_ACTOR,
                  redact_recent: bool = True) -> Dict[str, Any]:
    """Applies the policy; returns what was (or, with ``dry_run``, would be) cleared."""
    now = now or utcnow()
    policy = policy or RetentionPolicy.from_settings()
    since = max(now - NER_CATCH_UP, last_run(url) or now - NER_CATCH_UP) - timedelta(hours=1)
    counts: Dict[str, Any] = {}
    with session_scope(url) as session:
        conversation_cut = now - timedelta(days=policy.conversation_days)
        # 1. conversations: Rasa's events of conversations silent since the cut
        counts["conversation_events_deleted"] = 0
        if has_events_table(session.connection()):
            stale = (select(EVENTS.c.sender_id).group_by(EVENTS.c.sender_id)
                     .having(func.max(EVENTS.c.timestamp) < conversation_cut.timestamp()))
            counts["conversation_events_deleted"] = session.execute(
                sa.delete(EVENTS).where(EVENTS.c.sender_id.in_(stale))
                .execution_options(synchronize_session=False)).rowcount or 0
            if redact_recent and not dry_run:
                counts["conversation_rows_redacted_again"] = _redact_recent_events(session, since)
        # 2. the statistics' link to the conversation
        counts["enquiries_unlinked"] = session.execute(
            update(Enquiry).where(Enquiry.started_at < conversation_cut, Enquiry.conversation_id != "")
            .values(conversation_id="").execution_options(synchronize_session=False)).rowcount or 0
        # 3. the masked question text of the statistics
        counts["question_texts_cleared"] = session.execute(
            update(EnquiryQuestion).where(EnquiryQuestion.asked_at < now - timedelta(days=policy.question_text_days),
                                          EnquiryQuestion.text_redacted.isnot(None))
            .values(text_redacted=None).execution_options(synchronize_session=False)).rowcount or 0
        # 4. tickets: the whole text after ticket_days, the address alone after contact_days
        ticket_cut = now - timedelta(days=policy.ticket_days)
        expired = session.scalars(select(Ticket).where(Ticket.purged_at.is_(None), or_(
            and_(Ticket.status == "resolved", Ticket.resolved_at < ticket_cut),
            and_(Ticket.status != "resolved", Ticket.updated_at < ticket_cut)))).all()
        clear_ticket_texts(session, expired, now, None, "purged", actor)
        counts["tickets_purged"] = sorted(t.reference for t in expired)
        contact_cut = now - timedelta(days=policy.contact_days)
        addressed = session.scalars(select(Ticket).where(
            Ticket.contact_email.isnot(None), Ticket.status == "resolved", Ticket.resolved_at < contact_cut)).all()
        for ticket in addressed:
            ticket.contact_email = None
            session.add(TicketAudit(ticket_id=ticket.id, at=now, user_id=None, action="contact_erased",
                                    detail={"by": actor}))
        scrub_audit_errors(session, [t.id for t in addressed])
        counts["contact_emails_deleted"] = len(addressed)
        if dry_run:
            session.rollback()   # nothing is kept; session_scope then commits an empty transaction
        else:
            session.add(PrivacyAudit(at=now, action="retention", actor=actor,
                                     detail={"policy": asdict(policy), **counts}))
    if not dry_run:
        logger.info("retention: %s", {k: (len(v) if isinstance(v, list) else v) for k, v in counts.items()})
    return counts


def is_due(every: timedelta, now: Optional[datetime] = None, url: Optional[str] = None) -> bool:
    previous = last_run(url)
    return previous is None or (now or utcnow()) - previous >= every
