"""Reply by e-mail: a real SMTP round trip with aiosmtpd on localhost."""
from __future__ import annotations

import email
import socket

import pytest
from aiosmtpd.controller import Controller

from dashboard.mailer import MailNotConfigured, SmtpSettings, send_mail
from db.repositories import desk, users
from db.repositories.tickets import TicketDraft, create_ticket
from tests.waiting import wait_until


class Capture:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(monkeypatch):
    handler = Capture()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("PCN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PCN_SMTP_PORT", str(port))
    monkeypatch.setenv("PCN_SMTP_FROM", "pcn-test@cleiss.example")
    monkeypatch.delenv("PCN_SMTP_STARTTLS", raising=False)
    monkeypatch.delenv("PCN_SMTP_USER", raising=False)
    yield handler
    controller.stop()


@pytest.fixture(autouse=True)
def fast_hash(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def test_reply_round_trip_through_real_smtp(migrated_db, smtp_server):
    agent = users.create_user("alice", "correct horse battery", "agent")
    t = create_ticket(TicketDraft(idempotency_key="smtp-1", language="fr", category="a",
                                  contact_email="requester@example.org", question_text="Soins en Belgique ?"))
    res = desk.send_reply(t.id, agent.id, "Votre demande", "Bonjour,\nvoici la réponse du PCN.\nCordialement", send_mail)
    assert res["ok"], res
    wait_until(lambda: smtp_server.messages, 2.5, "the e-mail at the SMTP server", interval=0.05)
    mail_from, rcpt, content = smtp_server.messages[0]
    assert mail_from == "pcn-test@cleiss.example" and rcpt == ["requester@example.org"]
    msg = email.message_from_bytes(content)
    assert t.reference in msg["Subject"] and msg["Subject"] == f"[{t.reference}] Votre demande"
    assert "voici la réponse du PCN" in msg.get_payload(decode=True).decode("utf-8")
    got = desk.get_ticket(t.id, agent.id)
    assert got["first_response_at"] is not None
    assert got["messages"][0]["email_status"] == "sent" and got["status"] == "waiting"


def test_unreachable_smtp_is_recorded_as_failed(migrated_db, monkeypatch):
    agent = users.create_user("alice", "correct horse battery", "agent")
    t = create_ticket(TicketDraft(idempotency_key="smtp-2", contact_email="requester@example.org"))
    monkeypatch.setenv("PCN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PCN_SMTP_PORT", str(_free_port()))  # nobody listens there
    res = desk.send_reply(t.id, agent.id, "", "Bonjour", send_mail)
    assert not res["ok"]
    got = desk.get_ticket(t.id, agent.id)
    assert got["first_response_at"] is None and got["status"] == "new"
    assert got["messages"][0]["email_status"] == "failed"


def test_settings_from_env(monkeypatch):
    for k in ("PCN_SMTP_HOST", "PCN_SMTP_PORT", "PCN_SMTP_STARTTLS", "PCN_SMTP_USER"):
        monkeypatch.delenv(k, raising=False)
    assert not SmtpSettings.from_env().configured
    with pytest.raises(MailNotConfigured):
        send_mail("a@example.org", "s", "b")
    monkeypatch.setenv("PCN_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("PCN_SMTP_STARTTLS", "true")
    cfg = SmtpSettings.from_env()
    assert cfg.configured and cfg.starttls and cfg.port == 587
