"""SQLAlchemy models of the PCN desk (docs/ARCHITECTURE.md, "Database (db/)").

Compatibility note: Rasa 3.6 pins SQLAlchemy 1.4, which has neither
``DeclarativeBase`` nor ``mapped_column``. Models are therefore declared with
``declarative_base()`` and ``Column`` (valid on 1.4 and 2.x), while every query
in this package uses the 2.0 style (``select()``, ``session.execute`` /
``session.scalars``, ``future=True`` engines and sessions).

Conventions
* Codes (profile, outcome, status, category, role…) are plain strings; the
  vocabularies live in ``content/vocabularies.yml`` (see ``db.vocabularies``),
  never in database enums, so adding a code needs no migration.
* Every timestamp is timezone-aware UTC in Python (``UTCDateTime``): stored as
  ``timestamptz`` on PostgreSQL and as naive UTC on SQLite, and always read back
  with ``tzinfo=UTC``.
* The ticket transcript is JSON: a list of ``{"sender", "text", "at"}`` with the
  text already redacted.
* Any change here needs an Alembic revision (``db/migrations/versions``); the
  test ``test_db_migrations.py::test_models_match_migrations`` enforces it.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
Base = declarative_base(metadata=metadata)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_uuid() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes, stored the same way on SQLite and PostgreSQL.

    Naive datetimes given by callers are taken as UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"datetime expected, got {type(value).__name__}")
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# ---------------------------------------------------------------- enquiry log


class Enquiry(Base):
    """One conversation session of a requester with the assistant."""

    __tablename__ = "enquiries"

    id = sa.Column(sa.String(36), primary_key=True, default=new_uuid)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    started_at = sa.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    ended_at = sa.Column(UTCDateTime, nullable=True)
    channel = sa.Column(sa.String(32), nullable=False, default="web", server_default="web")
    language = sa.Column(sa.String(8), nullable=True)
    profile = sa.Column(sa.String(8), nullable=False, default="UNK", server_default="UNK")
    origin_country = sa.Column(sa.String(2), nullable=True)
    origin_group = sa.Column(
        sa.String(32), nullable=False, default="UNKNOWN", server_default="UNKNOWN", index=True
    )
    treatment_country = sa.Column(sa.String(2), nullable=True)
    outcome = sa.Column(
        sa.String(32), nullable=False, default="abandoned", server_default="abandoned", index=True
    )
    feedback_helpful = sa.Column(sa.Boolean, nullable=True)
    user_turns = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    fallback_turns = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    # category of the first categorised question, kept by a trigger (migration 0002) for the bilan
    category = sa.Column(sa.String(1), nullable=True)

    questions = relationship(
        "EnquiryQuestion",
        back_populates="enquiry",
        order_by="EnquiryQuestion.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"<Enquiry {self.id} {self.outcome}>"


class EnquiryQuestion(Base):
    """One question asked during an enquiry, with the assistant's classification."""

    __tablename__ = "enquiry_questions"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    enquiry_id = sa.Column(
        sa.String(36),
        sa.ForeignKey("enquiries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    asked_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    text_redacted = sa.Column(sa.Text, nullable=True)
    intent = sa.Column(sa.String(100), nullable=True)
    confidence = sa.Column(sa.Float, nullable=True)
    question_code = sa.Column(sa.String(8), nullable=True, index=True)
    category = sa.Column(sa.String(1), nullable=True)
    outcome = sa.Column(sa.String(32), nullable=False)

    enquiry = relationship("Enquiry", back_populates="questions")


# ---------------------------------------------------------------- desk


class DeskUser(Base):
    """A PCN agent, manager or administrator of the console."""

    __tablename__ = "desk_users"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    username = sa.Column(sa.String(64), nullable=False, unique=True)
    display_name = sa.Column(sa.String(200), nullable=False, default="", server_default="")
    email = sa.Column(sa.String(320), nullable=True)
    role = sa.Column(sa.String(16), nullable=False, default="agent", server_default="agent")
    password_hash = sa.Column(sa.String(255), nullable=True)  # argon2; NULL = cannot log in
    active = sa.Column(sa.Boolean, nullable=False, default=True, server_default=sa.true())
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<DeskUser {self.username} {self.role}>"


class DeskSession(Base):
    """A signed-in console session (the login cookie names it); revoked at logout,
    and for every session of an account that is disabled or gets a new password."""

    __tablename__ = "desk_sessions"

    id = sa.Column(sa.String(64), primary_key=True)  # random; the cookie carries it, signed
    user_id = sa.Column(
        sa.Integer, sa.ForeignKey("desk_users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at = sa.Column(UTCDateTime, nullable=True)


class DeskLoginEvent(Base):
    """The audit of console logins: successes, failures, refusals (throttled, locked), logouts."""

    __tablename__ = "desk_login_events"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    at = sa.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    username = sa.Column(sa.String(64), nullable=False, index=True)  # as typed (truncated)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("desk_users.id", ondelete="SET NULL"), nullable=True)
    client = sa.Column(sa.String(64), nullable=False, index=True)
    event = sa.Column(sa.String(16), nullable=False)  # ok | failed | throttled | locked | logout


class Ticket(Base):
    """An escalated enquiry, answered by a PCN agent from the console."""

    __tablename__ = "tickets"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    # PCN-YYYY-NNNNNN, derived from id in the transaction that inserts the row.
    reference = sa.Column(sa.String(64), nullable=False, unique=True)
    idempotency_key = sa.Column(sa.String(128), nullable=False, unique=True)
    enquiry_id = sa.Column(
        sa.String(36),
        sa.ForeignKey("enquiries.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    )
    conversation_id = sa.Column(sa.String(255), nullable=True, index=True)
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    updated_at = sa.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    status = sa.Column(sa.String(16), nullable=False, default="new", server_default="new", index=True)
    language = sa.Column(sa.String(8), nullable=True)
    category = sa.Column(sa.String(1), nullable=True)
    question_code = sa.Column(sa.String(8), nullable=True)
    profile = sa.Column(sa.String(8), nullable=False, default="UNK", server_default="UNK")
    origin_country = sa.Column(sa.String(2), nullable=True)
    origin_group = sa.Column(sa.String(32), nullable=False, default="UNKNOWN", server_default="UNKNOWN")
    treatment_country = sa.Column(sa.String(2), nullable=True)
    question_text = sa.Column(sa.Text, nullable=True)  # redacted
    contact_email = sa.Column(sa.String(320), nullable=True)  # only here, never in transcripts
    consent_at = sa.Column(UTCDateTime, nullable=True)
    transcript = sa.Column(sa.JSON, nullable=False, default=list)
    assignee_id = sa.Column(
        sa.Integer, sa.ForeignKey("desk_users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    first_response_at = sa.Column(UTCDateTime, nullable=True)
    resolved_at = sa.Column(UTCDateTime, nullable=True)

    enquiry = relationship("Enquiry")
    assignee = relationship("DeskUser")
    messages = relationship(
        "TicketMessage",
        back_populates="ticket",
        order_by="TicketMessage.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    audit = relationship(
        "TicketAudit",
        back_populates="ticket",
        order_by="TicketAudit.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"<Ticket {self.reference} {self.status}>"


class TicketMessage(Base):
    """A reply sent to the requester by e-mail, or an internal note."""

    __tablename__ = "ticket_messages"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    ticket_id = sa.Column(
        sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    kind = sa.Column(sa.String(16), nullable=False)  # reply | note
    author_id = sa.Column(sa.Integer, sa.ForeignKey("desk_users.id"), nullable=False)
    subject = sa.Column(sa.String(300), nullable=True)
    body = sa.Column(sa.Text, nullable=False, default="")
    email_status = sa.Column(sa.String(16), nullable=True)  # sent | failed | NULL (notes)

    ticket = relationship("Ticket", back_populates="messages")
    author = relationship("DeskUser")


class TicketAudit(Base):
    """Who viewed or changed a ticket, and how."""

    __tablename__ = "ticket_audit"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    ticket_id = sa.Column(
        sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("desk_users.id", ondelete="SET NULL"), nullable=True)
    action = sa.Column(sa.String(32), nullable=False)
    detail = sa.Column(sa.JSON, nullable=True)

    ticket = relationship("Ticket", back_populates="audit")
    user = relationship("DeskUser")


__all__ = [
    "Base",
    "metadata",
    "UTCDateTime",
    "utcnow",
    "Enquiry",
    "EnquiryQuestion",
    "DeskUser",
    "DeskSession",
    "DeskLoginEvent",
    "Ticket",
    "TicketMessage",
    "TicketAudit",
]
