"""Database down: tickets are spooled (never lost), then replayed exactly once."""
from __future__ import annotations

import json
import socket
import time
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from db import spool
from db.models import Ticket
from db.repositories import enquiries
from db.repositories.tickets import TicketDraft, create_ticket
from db.session import session_scope


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/pcn_down"


def _draft(**overrides) -> TicketDraft:
    values = dict(
        idempotency_key=uuid.uuid4().hex,
        conversation_id="conv-down",
        language="en",
        category="b",
        question_code="B1",
        profile="IND",
        origin_country="DE",
        question_text="How do I get an S2 form?",
        contact_email="john@example.org",
        transcript=[{"sender": "user", "text": "How do I get an S2 form?", "at": "2026-02-01T10:00:00+00:00"}],
    )
    values.update(overrides)
    return TicketDraft(**values)


def _tickets() -> list:
    with session_scope() as session:
        return session.scalars(select(Ticket)).all()


def _lines() -> list:
    path = spool.spool_path()
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_db_down_spools_then_flush_stores_exactly_one(migrated_db, spool_dir, monkeypatch):
    monkeypatch.setenv("PCN_DATABASE_URL", _closed_port_url())
    draft = _draft()
    started = time.monotonic()
    ticket, spooled = spool.create_ticket_or_spool(draft)
    assert (ticket, spooled) == (None, True)
    assert time.monotonic() - started < 5, "a down database must fail fast"
    # the user double-clicks while the database is still down: spooled twice
    assert spool.create_ticket_or_spool(draft) == (None, True)
    assert len(_lines()) == 2
    assert json.loads(_lines()[0])["idempotency_key"] == draft.idempotency_key
    assert [d.idempotency_key for d in spool.pending_drafts()] == [draft.idempotency_key] * 2

    # still down: nothing is removed
    assert spool.flush_spool() == (0, 2)
    assert len(_lines()) == 2

    # the database is back
    monkeypatch.setenv("PCN_DATABASE_URL", migrated_db)
    assert spool.flush_spool() == (2, 0)  # both lines stored… as one ticket
    stored = _tickets()
    assert len(stored) == 1
    assert stored[0].idempotency_key == draft.idempotency_key
    assert stored[0].created_at == draft.created_at  # submission time is kept
    assert stored[0].contact_email == "john@example.org"
    assert not spool.spool_path().exists()
    assert spool.flush_spool() == (0, 0)
    # a late retry of the same submission still returns the same ticket
    again, spooled = spool.create_ticket_or_spool(draft)
    assert not spooled and again.id == stored[0].id
    assert len(_tickets()) == 1


def test_db_flush_keeps_only_what_was_not_stored(migrated_db, spool_dir, monkeypatch):
    good = _draft()
    spool.spool_ticket(good)
    with open(spool.spool_path(), "a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    bad = _draft(category="zz")  # invalid: kept, never lost
    spool.spool_ticket(bad)
    stored, remaining = spool.flush_spool()
    assert (stored, remaining) == (1, 2)
    assert len(_tickets()) == 1
    lines = _lines()
    assert lines[0] == "{not json"
    assert json.loads(lines[1])["idempotency_key"] == bad.idempotency_key


def test_db_successful_create_replays_older_spool(migrated_db, spool_dir, monkeypatch):
    monkeypatch.setenv("PCN_DATABASE_URL", _closed_port_url())
    old = _draft()
    assert spool.create_ticket_or_spool(old) == (None, True)
    monkeypatch.setenv("PCN_DATABASE_URL", migrated_db)
    ticket, spooled = spool.create_ticket_or_spool(_draft())
    assert ticket is not None and not spooled
    assert {t.idempotency_key for t in _tickets()} == {old.idempotency_key, ticket.idempotency_key}
    assert not spool.spool_path().exists()


def test_db_flush_after_partial_replay_does_not_duplicate(migrated_db, spool_dir):
    """A crash after storing but before rewriting the spool: the replay is idempotent."""
    draft = _draft()
    spool.spool_ticket(draft)
    create_ticket(draft)  # stored, but still in the spool
    assert spool.flush_spool() == (1, 0)
    assert len(_tickets()) == 1


def test_db_enquiry_logging_fails_fast_when_down(spool_dir, monkeypatch):
    """Logging functions raise quickly (the actions swallow the error)."""
    monkeypatch.setenv("PCN_DATABASE_URL", _closed_port_url())
    started = time.monotonic()
    with pytest.raises(OperationalError):  # connection refused, not a bug of ours
        enquiries.start_enquiry(str(uuid.uuid4()), "c", "web", "fr")
    assert time.monotonic() - started < 5


def test_db_spool_lines_are_complete_json(spool_dir):
    drafts = [_draft() for _ in range(3)]
    for draft in drafts:
        spool.spool_ticket(draft)
    assert [json.loads(line)["idempotency_key"] for line in _lines()] == [d.idempotency_key for d in drafts]
    assert spool.spool_path().parent == spool_dir
