"""Outbox of the desk's e-mails: acknowledgements and agent replies, kept until sent.

A row is written in the same transaction as what it announces (the new
ticket, the agent's reply), so an SMTP outage loses nothing. ``mail/outbox.py``
(a desk process) sends what is due; a failed attempt is retried with a
doubling delay (``PCN_OUTBOX_RETRY_SECONDS``, at most 6 h) and gives up after
``MAX_ATTEMPTS`` — then the agent sees "failed" and may retry by hand.

A sent reply stamps the ticket's first response and moves it to ``waiting``.
"""
from __future__ import annotations

import datetime as dt
from email.utils import make_msgid
from typing import Callable, Optional

from sqlalchemy import select

from core import settings
from core.smtp import Outgoing
from db.models import MailOutbox, Ticket, TicketAudit, TicketMessage, utcnow
from db.session import session_scope

MAX_ATTEMPTS = 12
MAX_DELAY_S = 6 * 3600


def new_message_id() -> str:
    sender = settings.get("PCN_SMTP_FROM") or "pcn@localhost"
    return make_msgid(domain=sender.rsplit("@", 1)[-1] or "pcn.local")


def enqueue_ack(session, ticket: Ticket, in_reply_to: Optional[str] = None) -> Optional[MailOutbox]:
    """The acknowledgement of a new ticket (its text is written from the ACK template when sent)."""
    if not ticket.contact_email:
        return None
    row = MailOutbox(ticket_id=ticket.id, kind="ack", language=ticket.language,
                     message_id=new_message_id(), in_reply_to=in_reply_to, created_at=utcnow(),
                     next_attempt_at=utcnow())
    session.add(row)
    return row


def enqueue_reply(session, ticket: Ticket, message: TicketMessage, in_reply_to: Optional[str]) -> MailOutbox:
    row = MailOutbox(ticket_id=ticket.id, ticket_message_id=message.id, kind="reply", language=ticket.language,
                     message_id=message.mail_message_id or new_message_id(), in_reply_to=in_reply_to,
                     created_at=utcnow(), next_attempt_at=utcnow())
    session.add(row)
    return row


def due(limit: int = 50, now: Optional[dt.datetime] = None) -> list[int]:
    """Ids of the pending e-mails whose time has come, oldest first."""
    now = now or utcnow()
    with session_scope() as s:
        return list(s.scalars(select(MailOutbox.id).where(MailOutbox.status == "pending",
                                                          MailOutbox.next_attempt_at <= now)
                              .order_by(MailOutbox.next_attempt_at, MailOutbox.id).limit(limit)))


def get(outbox_id: int) -> Optional[dict]:
    with session_scope() as s:
        row = s.get(MailOutbox, outbox_id)
        if row is None:
            return None
        out = {c.name: getattr(row, c.name) for c in MailOutbox.__table__.columns}
        ticket = s.get(Ticket, row.ticket_id) if row.ticket_id else None
        out["reference"] = ticket.reference if ticket else None
        out["to_addr"] = ticket.contact_email if ticket else None  # None once erased: nothing is sent
        message = s.get(TicketMessage, row.ticket_message_id) if row.ticket_message_id else None
        if message is not None:  # a reply: its text is the message's
            out["subject"], out["body"] = message.subject, message.body
        return out


def _message_status(s, row: MailOutbox, status: str) -> Optional[TicketMessage]:
    if row.ticket_message_id is None:
        return None
    message = s.get(TicketMessage, row.ticket_message_id)
    if message is not None:
        message.email_status = status
    return message


def mark_sent(outbox_id: int, *, subject: Optional[str] = None, body: Optional[str] = None) -> None:
    """Sent: the ack keeps the text it was sent with; a reply stamps the ticket's first response."""
    with session_scope() as s:
        row = s.get(MailOutbox, outbox_id)
        if row is None or row.status == "sent":
            return
        now = utcnow()
        row.status, row.sent_at, row.attempts, row.last_error = "sent", now, row.attempts + 1, None
        if subject is not None:
            row.subject = subject
        if body is not None:
            row.body = body
        message = _message_status(s, row, "sent")
        ticket = s.get(Ticket, row.ticket_id) if row.ticket_id else None
        if ticket is None:
            return
        s.add(TicketAudit(ticket_id=ticket.id, at=now, user_id=message.author_id if message else None,
                          action="mail_sent", detail={"kind": row.kind, "outbox_id": row.id}))
        if row.kind == "reply":
            if ticket.first_response_at is None:
                ticket.first_response_at = now
            if message is not None and ticket.assignee_id is None:
                ticket.assignee_id = message.author_id
            if ticket.status in ("new", "open"):
                s.add(TicketAudit(ticket_id=ticket.id, at=now, user_id=message.author_id if message else None,
                                  action="status", detail={"from": ticket.status, "to": "waiting"}))
                ticket.status = "waiting"
            ticket.updated_at = now


def mark_failed(outbox_id: int, error: str, *, now: Optional[dt.datetime] = None) -> str:
    """A failed attempt: retried later (doubling delay), or given up after MAX_ATTEMPTS. Returns the status."""
    now = now or utcnow()
    with session_scope() as s:
        row = s.get(MailOutbox, outbox_id)
        if row is None or row.status == "sent":
            return row.status if row else "sent"
        row.attempts += 1
        row.last_error = error[:500]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            _message_status(s, row, "failed")
        else:
            first = float(settings.get("PCN_OUTBOX_RETRY_SECONDS") or 60)
            row.next_attempt_at = now + dt.timedelta(seconds=min(first * 2 ** (row.attempts - 1), MAX_DELAY_S))
        return row.status


def retry_now(outbox_id: int) -> None:
    """An agent asked to try again: back to pending, due at once (attempts start again)."""
    with session_scope() as s:
        row = s.get(MailOutbox, outbox_id)
        if row is None or row.status == "sent":
            return
        row.status, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
        _message_status(s, row, "pending")


def attempt(outbox_id: int, send: Callable[[Outgoing], None],
            render: Optional[Callable[[dict], tuple[str, str]]] = None) -> Optional[str]:
    """Try to send one outbox e-mail now; ``None`` when sent, else the error (kept for retry).

    ``render(row) -> (subject, body)`` writes an acknowledgement's text from its template.
    """
    row = get(outbox_id)
    if row is None or row["status"] == "sent":
        return None
    subject, body = row["subject"], row["body"]
    error = None
    try:
        if not row["to_addr"]:
            raise ValueError("no contact address on the ticket (erased?)")
        if subject is None or body is None:
            if render is None:
                raise ValueError("no text and no template for this e-mail")
            subject, body = render(row)
        send(Outgoing(to=row["to_addr"], subject=subject, body=body, message_id=row["message_id"],
                      in_reply_to=row["in_reply_to"], auto_submitted=row["kind"] == "ack"))
    except Exception as exc:  # noqa: BLE001 - any transport or template error is recorded, then retried
        error = f"{type(exc).__name__}: {exc}"
    if error is None:
        mark_sent(outbox_id, subject=subject if row["kind"] == "ack" else None,
                  body=body if row["kind"] == "ack" else None)
    else:
        mark_failed(outbox_id, error)
    return error
