"""A received mail becomes a ticket, or joins its thread (mail/ingest.py), on SQLite and PostgreSQL."""
from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from core.settings import MODEL_NAME, MODELS_DIR
from db.models import Enquiry, EnquiryQuestion, MailInbound, MailOutbox, Ticket, TicketAttachment
from db.repositories import desk, mailbox, users
from db.session import session_scope
from mail import classify
from mail.ingest import ingest

PDF = b"%PDF-1.4\n% invoice\n"


@pytest.fixture(autouse=True)
def fast_hash(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def mail(body: str, subject: str = "Question", msg_id: str = "<q1@example.org>", sender: str = "jane@example.org",
         **headers) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, "pcn@cleiss.example", subject, msg_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return bytes(msg)


def _count(model) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_new_mail_makes_an_enquiry_and_a_ticket(migrated_db):
    if not (MODELS_DIR / f"{MODEL_NAME}.tar.gz").exists():
        pytest.fail("models/pcn.tar.gz is missing: run `make train` (the README test command does it)")
    raw = mail("Hello, I had dental care in Spain last month and paid the dentist. How do I get reimbursed "
               "by my French health insurance? My social security number is 1 85 05 78 006 084 36.",
               subject="Reimbursement of dental care in Spain")
    result = ingest(raw, "smtp")
    assert result.disposition == "new_ticket" and result.reference.startswith("PCN-")
    with session_scope() as s:
        ticket = s.scalar(select(Ticket))
        enquiry = s.get(Enquiry, ticket.enquiry_id)
        question = s.scalar(select(EnquiryQuestion).where(EnquiryQuestion.enquiry_id == enquiry.id))
        ack = s.scalar(select(MailOutbox))
        assert (ticket.channel, enquiry.channel, enquiry.bilan_status) == ("email", "email", "request")
        assert ticket.language == enquiry.language == "en"
        assert ticket.contact_email == "jane@example.org"
        # the assistant's classifier suggested the question type; Spain is where the care was
        assert question.intent and question.question_code and ticket.category == enquiry.category
        assert ticket.treatment_country == "ES"
        # personal data: the NIR never reaches the enquiry log nor the ticket
        assert "1 85 05" not in question.text_redacted and "security number is [" in question.text_redacted
        assert "1 85 05" not in ticket.question_text
        assert (ack.kind, ack.status, ack.in_reply_to) == ("ack", "pending", "<q1@example.org>")
        assert ack.body is None  # written from the template when sent; the address stays on the ticket only
    # the same mail delivered twice (SMTP retry, IMAP after a crash) changes nothing
    assert ingest(raw, "imap").disposition == "duplicate"
    assert _count(Ticket) == 1 and _count(MailInbound) == 1


def test_mail_is_kept_when_classification_is_unavailable(migrated_db, monkeypatch, tmp_path):
    monkeypatch.setattr(classify, "load_pipeline", lambda *a, **k: classify._read(tmp_path / "no-model.tar.gz"))
    result = ingest(mail("Bonjour, puis-je me faire soigner en Belgique ?", msg_id="<q2@x>"), "imap")
    assert result.disposition == "new_ticket"
    with session_scope() as s:
        ticket = s.scalar(select(Ticket))
        assert ticket.question_code is None and ticket.category is None and ticket.language == "fr"


def test_replies_join_the_thread_and_reopen_it(migrated_db):
    agent = users.create_user("alice", "correct horse battery", "agent")
    ref = ingest(mail("Bonjour, comment obtenir le formulaire S2 ?", msg_id="<first@x>"), "smtp").reference
    ticket_id = desk.get_ticket_by_reference(ref)
    desk.update_fields(ticket_id, agent.id, category="b", profile="IND", origin_country="FR")
    desk.set_status(ticket_id, "resolved", agent.id, confirm_undelivered=True)
    # 1. the reference in the subject
    r = ingest(mail("Merci, une autre question : et pour mon fils ?", subject=f"Re: [{ref}] Accusé de réception",
                    msg_id="<second@x>"), "smtp")
    assert (r.disposition, r.reference) == ("thread", ref)
    got = desk.get_ticket(ticket_id, agent.id)
    assert got["status"] == "open" and [m["kind"] for m in got["messages"]] == ["inbound", "inbound"]
    # 2. In-Reply-To naming the acknowledgement we sent (no reference in the subject)
    with session_scope() as s:
        ack_id = s.scalar(select(MailOutbox.message_id).where(MailOutbox.kind == "ack"))
    desk.set_status(ticket_id, "waiting", agent.id)
    r = ingest(mail("Voici le document demandé.", subject="Re: votre message", msg_id="<third@x>",
                    In_Reply_To=ack_id), "imap")
    assert (r.disposition, r.reference) == ("thread", ref)
    assert desk.get_ticket(ticket_id, agent.id)["status"] == "open"
    assert _count(Ticket) == 1


def test_auto_replies_are_recorded_never_answered_and_reopen_nothing(migrated_db):
    agent = users.create_user("alice", "correct horse battery", "agent")
    ref = ingest(mail("Bonjour, question sur la carte européenne", msg_id="<a1@x>"), "smtp").reference
    ticket_id = desk.get_ticket_by_reference(ref)
    desk.set_status(ticket_id, "waiting", agent.id)
    r = ingest(mail("Je suis absente jusqu'au 3 janvier.", subject=f"Réponse automatique : [{ref}]",
                    msg_id="<a2@x>", Auto_Submitted="auto-replied"), "smtp")
    assert (r.disposition, r.reference) == ("auto", ref)
    got = desk.get_ticket(ticket_id, agent.id)
    assert got["status"] == "waiting" and got["messages"][-1]["kind"] == "auto"
    # an auto-reply or a bounce with no ticket: logged, no ticket, no acknowledgement
    assert ingest(mail("Delivery failed", subject="Undeliverable: hello", msg_id="<a3@x>",
                       sender="MAILER-DAEMON@mx.example.org"), "smtp").disposition == "auto"
    assert _count(Ticket) == 1 and _count(MailOutbox) == 1  # the one acknowledgement of the real mail
    with session_scope() as s:
        assert s.scalar(select(MailInbound.disposition).where(MailInbound.ticket_id.is_(None))) == "auto"


def test_malformed_mail_keeps_the_original_and_the_attachments(migrated_db):
    raw = (b"From: a@example.org\r\nSubject: dossier\r\nMessage-ID: <m1@x>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
           b"--B\r\nContent-Type: text/plain; charset=\"x-unknown\"\r\n\r\nMa facture de soins en Italie.\r\n"
           b"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"facture.pdf\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJSBpbnZvaWNlCg==\r\n")  # closing boundary missing
    ref = ingest(raw, "smtp").reference
    got = desk.get_ticket(desk.get_ticket_by_reference(ref), None, record_view=False)
    assert got["messages"][0]["flags"].get("charset") and "Italie" in got["messages"][0]["body"]
    assert sorted(a["filename"] for a in got["attachments"]) == ["facture.pdf", "message-original.eml"]
    with session_scope() as s:
        original = s.scalar(select(TicketAttachment.data).where(TicketAttachment.filename == "message-original.eml"))
    assert original == raw


def test_find_thread_ignores_unknown_references(migrated_db):
    assert mailbox.find_thread("Re: [PCN-2026-999999] ?", ["<nobody@x>"]) is None
