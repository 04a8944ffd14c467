"""End to end against real servers: mail in (the desk's SMTP receiver) → ticket → acknowledgement →
agent reply (caught by an SMTP sink) → the requester's answer (read from a real Dovecot over IMAP)
→ the same thread, reopened."""
from __future__ import annotations

import email
import email.policy
import smtplib
from email.message import EmailMessage

import pytest

from core.smtp import send
from db.repositories import desk, users
from mail import imap_poller, outbox, smtp_server
from tests.mailservers import free_port


@pytest.fixture(autouse=True)
def fast_hash(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def receiver():
    port = free_port()
    controller = smtp_server.start(host="127.0.0.1", port=port)
    yield port
    controller.stop()


def test_mail_round_trip_through_real_servers(migrated_db, smtp_sink, receiver, dovecot, monkeypatch):
    agent = users.create_user("alice", "correct horse battery", "agent")
    first = EmailMessage()
    first["From"], first["To"] = "Marie Martin <marie@example.org>", "pcn@cleiss.example"
    first["Subject"], first["Message-ID"] = "Soins dentaires en Espagne", "<premier@example.org>"
    first.set_content("Bonjour,\nj'ai payé des soins dentaires en Espagne. Comment être remboursée par ma caisse ?\n")
    with smtplib.SMTP("127.0.0.1", receiver, timeout=30) as client:
        client.send_message(first)  # 250 only once stored

    tickets = desk.list_tickets(desk.QueueFilter(channels=["email"]))
    assert len(tickets) == 1
    ticket_id, reference = tickets[0]["id"], tickets[0]["reference"]

    # the acknowledgement leaves the outbox, in French, with the reference and what happens next
    assert outbox.send_due() == 1
    _, rcpt, content = smtp_sink.wait_for(1)[0]
    ack = email.message_from_bytes(content, policy=email.policy.default)
    assert rcpt == ["marie@example.org"] and reference in ack["Subject"] and "Accusé de réception" in ack["Subject"]
    body = ack.get_content()
    assert f"Sa référence est {reference}" in body and "répondez simplement à ce message" in body
    assert ack["Auto-Submitted"] == "auto-replied" and ack["In-Reply-To"] == "<premier@example.org>"

    # the agent's reply, caught by the sink, answers the requester's mail
    res = desk.send_reply(ticket_id, agent.id, "Votre demande", "Bonjour, voici comment faire : formulaire S3125.", send)
    assert res["ok"], res
    reply = email.message_from_bytes(smtp_sink.wait_for(2)[1][2], policy=email.policy.default)
    assert reference in reply["Subject"] and reply["In-Reply-To"] == "<premier@example.org>"
    assert desk.get_ticket(ticket_id, agent.id)["status"] == "waiting"

    # the requester answers from their mail program: it lands in the PCN mailbox (Dovecot)
    answer = EmailMessage()
    answer["From"], answer["To"], answer["Subject"] = "marie@example.org", "pcn@cleiss.example", "Re: merci"
    answer["Message-ID"], answer["In-Reply-To"] = "<reponse@example.org>", reply["Message-ID"]
    answer["References"] = f"<premier@example.org> {reply['Message-ID']}"
    answer.set_content("Merci ! Et faut-il envoyer les originaux des factures ?")
    dovecot.append(bytes(answer))
    monkeypatch.setenv("PCN_IMAP_HOST", "127.0.0.1")
    monkeypatch.setenv("PCN_IMAP_PORT", str(dovecot.port))
    monkeypatch.setenv("PCN_IMAP_SSL", "0")
    monkeypatch.setenv("PCN_IMAP_USER", dovecot.user)
    monkeypatch.setenv("PCN_IMAP_PASSWORD", dovecot.password)
    assert imap_poller.poll_once() == 1
    assert dovecot.unseen() == 0 and imap_poller.poll_once() == 0  # marked seen once stored

    got = desk.get_ticket(ticket_id, agent.id)
    assert [m["kind"] for m in got["messages"]] == ["inbound", "reply", "inbound"]
    assert "originaux des factures" in got["messages"][-1]["body"]
    assert got["status"] == "open"  # the requester's answer reopens it for the agent
    assert len(desk.list_tickets(desk.QueueFilter(channels=["email"]))) == 1  # same thread, no new ticket


def test_receiver_asks_to_retry_when_the_mail_cannot_be_stored(receiver, monkeypatch):
    monkeypatch.setenv("PCN_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = "a@example.org", "pcn@x", "hi", "<r@x>"
    msg.set_content("Bonjour, une question sur le S2.")
    with smtplib.SMTP("127.0.0.1", receiver, timeout=30) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.send_message(msg)
    assert refused.value.smtp_code == 451  # the forwarding server keeps it and tries again: nothing lost
