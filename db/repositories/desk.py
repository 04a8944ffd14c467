"""The agent console's data: ticket queue, lifecycle, replies, notes, audit.

Status lifecycle (``content/vocabularies.yml`` → ``ticket_statuses``)::

    new ──claim/open──▶ open ──reply/wait──▶ waiting ──▶ open
      └──────────────┴───────────────┴──────▶ resolved ──reopen──▶ open

* category, profile (not ``UNK``) and origin country are required before
  ``resolved``; they are corrected from the controlled lists only;
* ``first_response_at`` is stamped by the first e-mail reply actually sent,
  ``resolved_at`` by resolving (cleared by a reopen);
* a reply goes through the outbox (db/repositories/outbox.py): tried at once,
  kept and retried when SMTP fails; resolving a ticket whose requester has no
  delivered reply asks for a confirmation (``confirm_undelivered``);
* corrections of category, profile, countries also correct the enquiry the
  ticket came from, so the bilan counts what the agent established;
* internal notes are never sent and never stamp a response time;
* every view and change is written to ``ticket_audit``.

Only the ``agent`` role works tickets; ``manager`` and ``admin`` read them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

import sqlalchemy as sa
from sqlalchemy import func, or_, select

from core import vocabulary as vocab
from core.countries import iso2_code
from core.smtp import Outgoing
from db.models import DeskUser, Enquiry, MailOutbox, Ticket, TicketAttachment, TicketAudit, TicketMessage, utcnow
from db.repositories import outbox
from db.session import session_scope

STATUSES = tuple(vocab.load()["ticket_statuses"])  # content/vocabularies.yml, in lifecycle order
TRANSITIONS = {
    "new": {"open", "waiting", "resolved"},  # one source: the lifecycle drawn above
    "open": {"waiting", "resolved"},
    "waiting": {"open", "resolved"},
    "resolved": {"open"},
}
WORKING_ROLES = ("agent",)


class DeskError(ValueError):
    """A refused operation. ``code`` (+ ``params``) names it for the console's
    translated message (dashboard/labels.yml: ``err_<code>``); str() is for logs."""

    def __init__(self, code: str, message: str = "", **params) -> None:
        self.code, self.params = code, params
        super().__init__(message or code)


class DeskPermissionError(PermissionError):
    pass


@dataclass
class QueueFilter:
    statuses: Iterable[str] = ()
    categories: Iterable[str] = ()          # "" stands for "no category yet"
    languages: Iterable[str] = ()
    origin_groups: Iterable[str] = ()
    channels: Iterable[str] = ()
    min_age_hours: Optional[float] = None
    assignee: Optional[str | int] = None    # None=all, "none"=unassigned, user id
    text: str = ""
    limit: int = 200
    now: Optional[dt.datetime] = field(default=None, repr=False)


def _conditions(f: QueueFilter, *, with_status: bool = True) -> list:
    cond = []
    if with_status and f.statuses:
        cond.append(Ticket.status.in_(list(f.statuses)))
    cats = list(f.categories or ())
    if cats:
        real = [c for c in cats if c]
        parts = [Ticket.category.in_(real)] if real else []
        if "" in cats:
            parts.append(Ticket.category.is_(None))
        cond.append(or_(*parts))
    if f.languages:
        cond.append(Ticket.language.in_(list(f.languages)))
    if f.origin_groups:
        cond.append(Ticket.origin_group.in_(list(f.origin_groups)))
    if f.channels:
        cond.append(Ticket.channel.in_(list(f.channels)))
    if f.min_age_hours:
        now = f.now or utcnow()
        cond.append(Ticket.created_at <= now - dt.timedelta(hours=float(f.min_age_hours)))
    if f.assignee == "none":
        cond.append(Ticket.assignee_id.is_(None))
    elif f.assignee not in (None, "", "all"):
        cond.append(Ticket.assignee_id == int(f.assignee))
    text = (f.text or "").strip()
    if text:
        like = f"%{text.lower()}%"
        cond.append(or_(
            func.lower(Ticket.reference).like(like),
            func.lower(Ticket.contact_email).like(like),
            func.lower(Ticket.question_text).like(like),
            func.lower(sa.cast(Ticket.transcript, sa.Text)).like(like),
        ))
    return cond


def list_tickets(f: Optional[QueueFilter] = None) -> list[dict]:
    """The queue: oldest open work first (resolved last), at most ``f.limit`` rows."""
    f = f or QueueFilter()
    order_status = sa.case((Ticket.status == "resolved", 1), else_=0)
    stmt = (
        select(Ticket.id, Ticket.reference, Ticket.created_at, Ticket.updated_at, Ticket.status,
               Ticket.category, Ticket.language, Ticket.origin_group, Ticket.origin_country,
               Ticket.profile, Ticket.question_code, Ticket.question_text, Ticket.assignee_id, Ticket.channel,
               DeskUser.display_name.label("assignee_name"), Ticket.first_response_at, Ticket.resolved_at)
        .outerjoin(DeskUser, DeskUser.id == Ticket.assignee_id)
        .where(*_conditions(f))
        .order_by(order_status, Ticket.created_at, Ticket.id)
        .limit(f.limit)
    )
    with session_scope() as s:
        return [dict(r._mapping) for r in s.execute(stmt)]


def status_counts(f: Optional[QueueFilter] = None) -> dict[str, int]:
    """Tickets per status under the other filters (every status present, 0 if none)."""
    f = f or QueueFilter()
    stmt = select(Ticket.status, func.count()).where(*_conditions(f, with_status=False)).group_by(Ticket.status)
    out = {s: 0 for s in STATUSES}
    with session_scope() as s:
        for status, n in s.execute(stmt):
            out[status] = int(n)
    return out


def _audit(s, ticket_id: int, user_id: Optional[int], action: str, detail: Optional[dict] = None) -> None:
    s.add(TicketAudit(ticket_id=ticket_id, user_id=user_id, action=action, detail=detail or {}, at=utcnow()))


def _actor(s, user_id: int, *, work: bool = True) -> DeskUser:
    user = s.get(DeskUser, user_id)
    if user is None or not user.active:
        raise DeskPermissionError("unknown or disabled user")
    if work and user.role not in WORKING_ROLES:
        raise DeskPermissionError(f"role {user.role!r} cannot work tickets")
    return user


def _ticket(s, ticket_id: int) -> Ticket:
    t = s.get(Ticket, ticket_id, with_for_update=s.get_bind().dialect.name == "postgresql")
    if t is None:
        raise DeskError("no_ticket", f"no ticket {ticket_id}")
    return t


def _as_dict(t: Ticket) -> dict:
    return {c.name: getattr(t, c.name) for c in Ticket.__table__.columns}


def get_ticket(ticket_id: int, viewer_id: Optional[int], *, record_view: bool = True) -> Optional[dict]:
    """The ticket with its messages, attachments (without their bytes), outbox and audit trail;
    the view itself is audited."""
    with session_scope() as s:
        t = s.get(Ticket, ticket_id)
        if t is None:
            return None
        if record_view and viewer_id is not None:
            _audit(s, t.id, viewer_id, "viewed")
            s.flush()
        out = _as_dict(t)
        names = dict(s.execute(select(DeskUser.id, DeskUser.display_name)).all())
        out["assignee_name"] = names.get(t.assignee_id)
        outbox = {r.ticket_message_id: r for r in s.scalars(select(MailOutbox).where(MailOutbox.ticket_id == t.id))}
        out["messages"] = [
            {"id": m.id, "created_at": m.created_at, "kind": m.kind, "author": names.get(m.author_id),
             "subject": m.subject, "body": m.body, "email_status": m.email_status, "flags": m.flags or {},
             "outbox_id": outbox[m.id].id if m.id in outbox else None,
             "last_error": outbox[m.id].last_error if m.id in outbox else None}
            for m in s.scalars(select(TicketMessage).where(TicketMessage.ticket_id == t.id).order_by(TicketMessage.id))
        ]
        out["attachments"] = [
            {"id": a.id, "message_id": a.message_id, "filename": a.filename, "content_type": a.content_type,
             "size": a.size}
            for a in s.scalars(select(TicketAttachment).where(TicketAttachment.ticket_id == t.id)
                               .order_by(TicketAttachment.id))
        ]
        out["acks"] = [{"status": r.status, "sent_at": r.sent_at, "last_error": r.last_error}
                       for r in outbox.values() if r.kind == "ack"]
        out["audit"] = audit_trail_in(s, t.id, names)
        return out


def get_attachment(attachment_id: int, viewer_id: int) -> Optional[dict]:
    """One attachment's bytes, for a download (audited)."""
    with session_scope() as s:
        a = s.get(TicketAttachment, attachment_id)
        if a is None:
            return None
        _audit(s, a.ticket_id, viewer_id, "attachment_downloaded", {"attachment_id": a.id})
        return {"filename": a.filename, "content_type": a.content_type, "data": a.data}


def get_ticket_by_reference(reference: str) -> Optional[int]:
    with session_scope() as s:
        return s.scalar(select(Ticket.id).where(Ticket.reference == reference.strip()))


def audit_trail_in(s, ticket_id: int, names: Optional[dict] = None) -> list[dict]:
    names = names if names is not None else dict(s.execute(select(DeskUser.id, DeskUser.display_name)).all())
    return [
        {"at": a.at, "user": names.get(a.user_id), "user_id": a.user_id, "action": a.action, "detail": a.detail}
        for a in s.scalars(select(TicketAudit).where(TicketAudit.ticket_id == ticket_id).order_by(TicketAudit.id))
    ]


def _set_status(s, t: Ticket, status: str, user_id: Optional[int], *, confirm_undelivered: bool = False) -> None:
    if status not in STATUSES:
        raise DeskError("unknown_status", f"unknown status {status!r}")
    if status == t.status:
        return
    if status not in TRANSITIONS[t.status]:
        raise DeskError("transition", f"transition {t.status} → {status} not allowed",
                        **{"from": t.status, "to": status})
    if status == "resolved":
        missing = missing_for_resolution(t)
        if missing:
            raise DeskError("missing_fields", "required before resolving: " + ", ".join(missing), fields=missing)
        if not confirm_undelivered and undelivered(s, t):
            raise DeskError("undelivered", "no reply was delivered to the requester: confirm to resolve")
        t.resolved_at = utcnow()
    elif t.status == "resolved":
        t.resolved_at = None  # reopened: the resolution time will be the next one
    _audit(s, t.id, user_id, "status", {"from": t.status, "to": status})
    t.status = status
    t.updated_at = utcnow()


def missing_for_resolution(t) -> list[str]:
    get = (lambda k: t.get(k)) if isinstance(t, dict) else (lambda k: getattr(t, k))
    missing = []
    if not get("category"):
        missing.append("category")
    if not get("profile") or get("profile") == "UNK":
        missing.append("profile")
    if not get("origin_country"):
        missing.append("origin_country")
    return missing


def undelivered(s, t: Ticket) -> bool:
    """The requester can be written to, but no reply reached them (none sent, or the last one is not sent)."""
    if not t.contact_email:
        return False
    statuses = list(s.scalars(select(TicketMessage.email_status).where(
        TicketMessage.ticket_id == t.id, TicketMessage.kind == "reply").order_by(TicketMessage.id)))
    return not statuses or statuses[-1] != "sent"


def set_status(ticket_id: int, status: str, user_id: int, *, confirm_undelivered: bool = False) -> None:
    with session_scope() as s:
        _actor(s, user_id)
        _set_status(s, _ticket(s, ticket_id), status, user_id, confirm_undelivered=confirm_undelivered)


def claim(ticket_id: int, user_id: int) -> None:
    """Assign to oneself; a new ticket becomes open."""
    with session_scope() as s:
        _actor(s, user_id)
        t = _ticket(s, ticket_id)
        if t.assignee_id != user_id:
            _audit(s, t.id, user_id, "claimed", {"from": t.assignee_id, "to": user_id})
            t.assignee_id = user_id
            t.updated_at = utcnow()
        if t.status == "new":
            _set_status(s, t, "open", user_id)


def assign(ticket_id: int, assignee_id: Optional[int], user_id: int) -> None:
    with session_scope() as s:
        _actor(s, user_id)
        if assignee_id is not None:
            target = s.get(DeskUser, assignee_id)
            if target is None or not target.active or target.role not in WORKING_ROLES:
                raise DeskError("assign_agent_only", "tickets can only be assigned to an active agent")
        t = _ticket(s, ticket_id)
        if t.assignee_id != assignee_id:
            _audit(s, t.id, user_id, "assigned", {"from": t.assignee_id, "to": assignee_id})
            t.assignee_id = assignee_id
            t.updated_at = utcnow()


def update_fields(ticket_id: int, user_id: int, *, category: Optional[str] = None,
                  profile: Optional[str] = None, origin_country: Optional[str] = None,
                  treatment_country: Optional[str] = None) -> dict:
    """Correct category / profile / countries from the controlled lists, on the ticket and
    on the enquiry it came from (the bilan counts enquiries)."""
    changes = {}
    with session_scope() as s:
        _actor(s, user_id)
        t = _ticket(s, ticket_id)
        if category is not None:
            if category not in vocab.codes("categories"):
                raise DeskError("unknown_code", f"unknown category {category!r}", value=category)
            if category != t.category:
                changes["category"] = [t.category, category]
                t.category = category
        if profile is not None:
            if profile not in vocab.codes("profiles"):
                raise DeskError("unknown_code", f"unknown profile {profile!r}", value=profile)
            if profile != t.profile:
                changes["profile"] = [t.profile, profile]
                t.profile = profile
        if origin_country is not None:
            iso2 = _iso2(origin_country)
            if iso2 != t.origin_country:
                group = vocab.bilan_group(iso2)
                changes["origin_country"] = [t.origin_country, iso2]
                if group != t.origin_group:
                    changes["origin_group"] = [t.origin_group, group]
                t.origin_country, t.origin_group = iso2, group
        if treatment_country is not None:
            iso2 = _iso2(treatment_country)
            if iso2 != t.treatment_country:
                changes["treatment_country"] = [t.treatment_country, iso2]
                t.treatment_country = iso2
        if changes:
            _audit(s, t.id, user_id, "field", changes)
            t.updated_at = utcnow()
            _correct_enquiry(s, t)
    return changes


def _iso2(value: str) -> Optional[str]:
    try:
        return iso2_code(value)  # core/countries.py: "UK" is GB, blank is none
    except ValueError as error:
        raise DeskError("bad_country", f"not an ISO 3166-1 alpha-2 code: {value!r}", value=value) from error


def _correct_enquiry(s, t: Ticket) -> None:
    """The agent's classification wins over the assistant's guesses in the bilan."""
    enquiry = s.get(Enquiry, t.enquiry_id) if t.enquiry_id else None
    if enquiry is None:
        return
    enquiry.category = t.category
    enquiry.profile = t.profile or "UNK"
    enquiry.origin_country, enquiry.origin_group = t.origin_country, t.origin_group
    enquiry.treatment_country = t.treatment_country


def mark_not_a_request(ticket_id: int, user_id: int) -> None:
    """A test or an unwanted message: its enquiry leaves the bilan's requests (``spam``), audited."""
    with session_scope() as s:
        _actor(s, user_id)
        t = _ticket(s, ticket_id)
        enquiry = s.get(Enquiry, t.enquiry_id) if t.enquiry_id else None
        if enquiry is not None and enquiry.bilan_status != "spam":
            enquiry.bilan_status = "spam"
            _audit(s, t.id, user_id, "not_a_request", {"enquiry_id": enquiry.id})


def add_note(ticket_id: int, user_id: int, body: str) -> int:
    body = (body or "").strip()
    if not body:
        raise DeskError("empty_note", "empty note")
    with session_scope() as s:
        _actor(s, user_id)
        t = _ticket(s, ticket_id)
        m = TicketMessage(ticket_id=t.id, kind="note", author_id=user_id, body=body, created_at=utcnow())
        s.add(m)
        s.flush()
        _audit(s, t.id, user_id, "note", {"message_id": m.id})
        return m.id


def reply_subject(reference: str, subject: str) -> str:
    """The subject always carries the reference (threading on the requester's side)."""
    subject = (subject or "").strip()
    return subject if reference in subject else f"[{reference}] {subject}".strip()


def send_reply(ticket_id: int, user_id: int, subject: str, body: str,
               send: Optional[Callable[[Outgoing], None]] = None) -> dict:
    """Record a reply and queue it in the outbox (same transaction), then try to send it now
    through ``send`` (core.smtp.send). A failed attempt stays ``pending`` and is retried by
    the mail process; a sent reply stamps ``first_response_at`` and moves the ticket to
    ``waiting`` (outbox.mark_sent). It answers the requester's last mail (In-Reply-To)."""
    body = (body or "").strip()
    if not body:
        raise DeskError("empty_reply", "empty reply")
    with session_scope() as s:
        _actor(s, user_id)
        t = _ticket(s, ticket_id)
        if not t.contact_email:
            raise DeskError("no_email", "no contact e-mail on this ticket")
        subject = reply_subject(t.reference, subject)
        last_inbound = s.scalar(select(TicketMessage.mail_message_id).where(
            TicketMessage.ticket_id == t.id, TicketMessage.kind == "inbound",
            TicketMessage.mail_message_id.isnot(None)).order_by(TicketMessage.id.desc()).limit(1))
        m = TicketMessage(ticket_id=t.id, kind="reply", author_id=user_id, subject=subject, body=body,
                          email_status="pending", mail_message_id=outbox.new_message_id(), created_at=utcnow())
        s.add(m)
        s.flush()
        row = outbox.enqueue_reply(s, t, m, last_inbound)
        s.flush()
        _audit(s, t.id, user_id, "replied", {"message_id": m.id})
        to, outbox_id = t.contact_email, row.id
    error = outbox.attempt(outbox_id, send) if send is not None else "queued"
    return {"ok": error is None, "error": error, "subject": subject, "to": to, "outbox_id": outbox_id}


def retry_reply(outbox_id: int, user_id: int, send: Optional[Callable[[Outgoing], None]] = None) -> dict:
    """The agent's "send again": due at once, and tried now when ``send`` is given."""
    with session_scope() as s:
        _actor(s, user_id)
    outbox.retry_now(outbox_id)
    error = outbox.attempt(outbox_id, send) if send is not None else "queued"
    return {"ok": error is None, "error": error}


def agents() -> list[tuple[int, str]]:
    with session_scope() as s:
        return [(r.id, r.display_name or r.username) for r in s.scalars(
            select(DeskUser).where(DeskUser.active.is_(True), DeskUser.role.in_(WORKING_ROLES)).order_by(DeskUser.display_name))]


def can_work(role: Optional[str]) -> bool:
    return role in WORKING_ROLES
