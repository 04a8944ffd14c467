"""Reply by e-mail: a real SMTP round trip with aiosmtpd on localhost, through the outbox."""
from __future__ import annotations

import email

import pytest

from core.smtp import MailNotConfigured, Outgoing, SmtpSettings, send
from db.repositories import desk, users
from db.repositories.tickets import TicketDraft, create_ticket
from tests.mailservers import free_port


@pytest.fixture(autouse=True)
def fast_hash(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def test_reply_round_trip_through_real_smtp(migrated_db, smtp_sink):
    agent = users.create_user("alice", "correct horse battery", "agent")
    t = create_ticket(TicketDraft(idempotency_key="smtp-1", language="fr", category="a", acknowledge=False,
                                  contact_email="requester@example.org", question_text="Soins en Belgique ?"))
    res = desk.send_reply(t.id, agent.id, "Votre demande", "Bonjour,\nvoici la réponse du PCN.\nCordialement", send)
    assert res["ok"], res
    mail_from, rcpt, content = smtp_sink.wait_for(1)[0]
    assert mail_from == "pcn-test@cleiss.example" and rcpt == ["requester@example.org"]
    msg = email.message_from_bytes(content)
    assert t.reference in msg["Subject"] and msg["Subject"] == f"[{t.reference}] Votre demande"
    assert "voici la réponse du PCN" in msg.get_payload(decode=True).decode("utf-8")
    got = desk.get_ticket(t.id, agent.id)
    assert got["first_response_at"] is not None
    assert got["messages"][0]["email_status"] == "sent" and got["status"] == "waiting"
    assert msg["Message-ID"] and msg["Auto-Submitted"] is None  # a person's reply, not an auto-reply


def test_unreachable_smtp_keeps_the_reply_for_a_retry(migrated_db, monkeypatch):
    agent = users.create_user("alice", "correct horse battery", "agent")
    t = create_ticket(TicketDraft(idempotency_key="smtp-2", contact_email="requester@example.org", acknowledge=False))
    monkeypatch.setenv("PCN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PCN_SMTP_PORT", str(free_port()))  # nobody listens there
    res = desk.send_reply(t.id, agent.id, "", "Bonjour", send)
    assert not res["ok"] and "ConnectionRefused" in res["error"]
    got = desk.get_ticket(t.id, agent.id)
    assert got["first_response_at"] is None and got["status"] == "new"
    assert got["messages"][0]["email_status"] == "pending" and got["messages"][0]["outbox_id"] == res["outbox_id"]


def test_settings_from_env(monkeypatch):
    for k in ("PCN_SMTP_HOST", "PCN_SMTP_PORT", "PCN_SMTP_STARTTLS", "PCN_SMTP_USER"):
        monkeypatch.delenv(k, raising=False)
    assert not SmtpSettings.from_env().configured
    with pytest.raises(MailNotConfigured):
        send(Outgoing(to="a@example.org", subject="s", body="b"))
    monkeypatch.setenv("PCN_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("PCN_SMTP_STARTTLS", "true")
    cfg = SmtpSettings.from_env()
    assert cfg.configured and cfg.starttls and cfg.port == 587 and cfg.describe() == "smtp.example.org:587 (STARTTLS)"
