"""Ticket repository: creation, reference, idempotency (retries and concurrent
double submissions) on SQLite and PostgreSQL."""
from __future__ import annotations

import re
import threading
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from db.models import DeskUser, Enquiry, Ticket, TicketAudit, TicketMessage
from db.repositories import enquiries, tickets
from db.repositories.tickets import TicketDraft, create_ticket, make_idempotency_key
from db.session import session_scope

REFERENCE = re.compile(r"^PCN-\d{4}-\d{6}$")


def _stored(reference: str) -> Ticket:
    with session_scope() as session:
        return session.scalars(select(Ticket).where(Ticket.reference == reference)).one()


def _draft(**overrides) -> TicketDraft:
    values = dict(
        idempotency_key=uuid.uuid4().hex,
        conversation_id="conv-1",
        language="fr",
        category="c",
        question_code="C2",
        profile="IND",
        origin_country="FR",
        treatment_country="ES",
        question_text="Comment me faire rembourser des soins dentaires en [PLACE] ?",
        contact_email="marie@example.org",
        consent_at=datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc),
        transcript=[
            {"sender": "user", "text": "Bonjour, je suis [PERSON]", "at": "2026-03-04T09:58:00+00:00"},
            {"sender": "bot", "text": "Bonjour !", "at": "2026-03-04T09:58:01+00:00"},
        ],
    )
    values.update(overrides)
    return TicketDraft(**values)


def _count(model=Ticket) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_db_create_ticket_stores_everything(migrated_db):
    enquiry_id = str(uuid.uuid4())
    enquiries.start_enquiry(enquiry_id, "conv-1", "web", "fr")
    enquiries.record_question(enquiry_id, "q", "q_c2", 0.8, "C2", "c", "answered")
    draft = _draft(enquiry_id=enquiry_id)
    ticket = create_ticket(draft)

    assert REFERENCE.match(ticket.reference)
    assert ticket.reference == f"PCN-{ticket.created_at.year}-{ticket.id:06d}"
    stored = _stored(ticket.reference)
    assert stored.id == ticket.id
    assert stored.status == "new"
    assert (stored.category, stored.question_code, stored.profile) == ("c", "C2", "IND")
    assert (stored.origin_country, stored.origin_group, stored.treatment_country) == ("FR", "FR", "ES")
    assert stored.contact_email == "marie@example.org"
    assert stored.consent_at == datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)
    assert stored.transcript == draft.transcript
    assert stored.created_at.tzinfo is not None and stored.updated_at >= stored.created_at
    assert stored.assignee_id is None and stored.first_response_at is None and stored.resolved_at is None
    with session_scope() as session:
        audit = session.scalars(select(TicketAudit).where(TicketAudit.ticket_id == ticket.id)).all()
        assert [a.action for a in audit] == ["created"]
        assert audit[0].detail["enquiry_id"] == enquiry_id
        assert session.get(Enquiry, enquiry_id).outcome == "escalated"


def test_db_reference_format_and_sequence(migrated_db):
    first = create_ticket(_draft(created_at=datetime(2026, 12, 31, 23, 0, tzinfo=timezone.utc)))
    second = create_ticket(_draft())
    assert first.reference == f"PCN-2026-{first.id:06d}"
    assert REFERENCE.match(second.reference)
    assert second.id > first.id
    assert tickets.make_reference(123, datetime(2026, 5, 1, tzinfo=timezone.utc)) == "PCN-2026-000123"


def test_db_same_key_twice_returns_the_same_ticket(migrated_db):
    draft = _draft()
    first = create_ticket(draft)
    retry = create_ticket(_draft(idempotency_key=draft.idempotency_key, question_text="changed"))
    assert retry.id == first.id and retry.reference == first.reference
    assert retry.question_text == draft.question_text
    assert _count() == 1
    assert _count(TicketAudit) == 1


@pytest.mark.parametrize("workers", [2, 6])
def test_db_concurrent_double_submission_creates_one_ticket(migrated_db, workers):
    draft = _draft()
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def submit():
        try:
            barrier.wait(timeout=10)
            results.append(create_ticket(_draft(idempotency_key=draft.idempotency_key)))
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=submit) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == workers
    assert len({ticket.reference for ticket in results}) == 1
    assert _count() == 1


def test_db_race_lost_after_preselect_is_resolved(migrated_db, monkeypatch):
    """The path where the pre-check sees nothing but the insert hits the unique key."""
    draft = _draft()
    winner = create_ticket(draft)
    real = tickets.get_ticket_by_key
    calls = []

    def stale_first_lookup(key):
        calls.append(key)
        return None if len(calls) == 1 else real(key)

    monkeypatch.setattr(tickets, "get_ticket_by_key", stale_first_lookup)
    again = create_ticket(_draft(idempotency_key=draft.idempotency_key))
    assert again.id == winner.id and len(calls) == 2
    assert _count() == 1


def test_db_ticket_without_logged_enquiry_is_kept(migrated_db):
    ticket = create_ticket(_draft(enquiry_id="never-logged", origin_country=None))
    stored = _stored(ticket.reference)
    assert stored.enquiry_id is None and stored.origin_group == "UNKNOWN"
    assert stored.conversation_id == "conv-1"


def test_db_ticket_draft_validation(migrated_db):
    with pytest.raises(ValueError):
        create_ticket(_draft(idempotency_key=""))
    with pytest.raises(ValueError):
        create_ticket(_draft(category="x"))
    with pytest.raises(ValueError):
        create_ticket(_draft(profile="ALIEN"))
    assert _count() == 0


def test_db_ticket_draft_json_round_trip():
    draft = _draft(enquiry_id="e1")
    again = TicketDraft.from_dict(draft.to_dict())
    assert again == draft
    assert again.created_at.tzinfo is not None
    naive = TicketDraft.from_dict({"idempotency_key": "k", "consent_at": "2026-01-01T10:00:00", "unknown": 1})
    assert naive.consent_at == datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc)


def test_db_idempotency_key_is_stable():
    assert make_idempotency_key("conv", 1.5) == make_idempotency_key("conv", 1.5)
    assert make_idempotency_key("conv", 1.5) != make_idempotency_key("conv", 1.6)
    assert len(make_idempotency_key("x")) == 64


def test_db_messages_audit_and_users(migrated_db):
    """The console's tables: a reply, a note, audit entries, assignment."""
    ticket = create_ticket(_draft())
    with session_scope() as session:
        agent = DeskUser(username="agent1", display_name="Agent 1", email="a@pcn.example", role="agent", password_hash="$argon2id$x")
        session.add(agent)
        session.flush()
        stored = session.get(Ticket, ticket.id)
        stored.assignee_id = agent.id
        stored.status = "open"
        session.add(TicketMessage(ticket_id=ticket.id, kind="reply", author_id=agent.id, subject=f"[{ticket.reference}]", body="Bonjour", email_status="sent"))
        session.add(TicketMessage(ticket_id=ticket.id, kind="note", author_id=agent.id, body="interne"))
        session.add(TicketAudit(ticket_id=ticket.id, user_id=agent.id, action="claimed", detail={"from": None}))
    with session_scope() as session:
        stored = session.get(Ticket, ticket.id)
        assert stored.assignee.username == "agent1" and stored.status == "open"
        assert stored.updated_at >= stored.created_at
        assert [m.kind for m in stored.messages] == ["reply", "note"]
        assert [a.action for a in stored.audit] == ["created", "claimed"]
        assert session.get(DeskUser, stored.assignee_id).active is True
        session.delete(stored)
    assert _count(TicketMessage) == 0 and _count(TicketAudit) == 0
