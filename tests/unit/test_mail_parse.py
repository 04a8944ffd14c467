"""Reading received mails in any state (mail/parse.py): text, flags, auto-replies, attachment limits."""
from __future__ import annotations

from email.message import EmailMessage

import pytest

from mail.parse import parse

PDF = b"%PDF-1.4\n% a form\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 20


def mail(body="Bonjour, je voudrais savoir comment être remboursé de soins en Espagne.", **headers) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Marie <marie@example.org>")
    msg["To"] = "pcn@cleiss.example"
    msg["Subject"] = headers.pop("Subject", "Remboursement de soins")
    msg["Message-ID"] = headers.pop("Message_ID", "<m1@example.org>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def test_plain_mail():
    p = parse(bytes(mail()))
    assert p.from_addr == "marie@example.org" and p.subject == "Remboursement de soins"
    assert "remboursé de soins en Espagne" in p.text and p.message_id == "<m1@example.org>"
    assert p.auto is None and p.flags == {} and p.attachments == []


def test_reply_to_is_the_address_to_answer():
    assert parse(bytes(mail(Reply_To="Marie <marie.perso@example.net>"))).from_addr == "marie.perso@example.net"


@pytest.mark.parametrize("headers,reason", [
    ({"Auto_Submitted": "auto-replied"}, "auto-submitted"),
    ({"Precedence": "bulk"}, "precedence"),
    ({"X_Autoreply": "yes"}, "x-autoreply"),
    ({"List_Id": "<news.example.org>"}, "mailing-list"),
    ({"From": "MAILER-DAEMON@mx.example.org"}, "mailer-daemon"),
    ({"Subject": "Réponse automatique : absent du bureau"}, "auto-subject"),
    ({"Subject": "Out of Office: Remboursement"}, "auto-subject"),
    ({"Return_Path": "<>"}, "bounce"),
])
def test_auto_replies_bounces_and_lists_are_recognised(headers, reason):
    assert parse(bytes(mail(**headers))).auto == reason


def test_a_person_writing_no_is_not_automatic_and_our_own_address_is_a_loop(monkeypatch):
    assert parse(bytes(mail(Auto_Submitted="no"))).auto is None
    monkeypatch.setenv("PCN_SMTP_FROM", "pcn@cleiss.example")
    assert parse(bytes(mail(From="PCN <pcn@cleiss.example>"))).auto == "loop"


def test_delivery_report_is_a_bounce():
    raw = (b"From: MAILER-DAEMON@mx.example.org\r\nTo: pcn@cleiss.example\r\nSubject: failure notice\r\n"
           b"Message-ID: <b1@mx>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"XX\"\r\n\r\n"
           b"--XX\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--XX--\r\n")
    assert parse(raw).auto in ("bounce", "mailer-daemon")


def test_unknown_charset_is_decoded_and_flagged():
    raw = (b"From: a@example.org\r\nSubject: test\r\nMessage-ID: <c1@x>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=\"x-no-such-charset\"\r\n\r\nJ'ai pay\xe9 mes soins en Italie.\r\n")
    p = parse(raw)
    assert p.flags.get("charset") and "pay" in p.text and "Italie" in p.text


def test_malformed_multipart_is_kept_and_flagged():
    raw = (b"From: a@example.org\r\nSubject: broken\r\nMessage-ID: <d1@x>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=\"NEVERCLOSED\"\r\n\r\n"
           b"--NEVERCLOSED\r\nContent-Type: text/plain\r\n\r\nMa question sur le formulaire S2.\r\n")
    p = parse(raw)
    assert p.flags.get("malformed") and "formulaire S2" in p.text


def test_garbage_bytes_are_kept_as_text():
    p = parse(b"\x00\xff\xfe not a mail at all \x01\x02")
    assert "not a mail at all" in p.text and p.message_key


def test_html_only_mail_gives_text_without_markup():
    msg = mail()
    msg.set_content("<p>Bonjour,<br>soins <b>dentaires</b> en Belgique ?</p><script>alert(1)</script>",
                    subtype="html")
    p = parse(bytes(msg))
    assert p.flags.get("html_only") and "soins dentaires en Belgique" in p.text
    assert "<" not in p.text and "alert" not in p.text


def test_attachments_within_limits(monkeypatch):
    monkeypatch.setenv("PCN_MAIL_ATTACHMENT_MAX_COUNT", "2")
    monkeypatch.setenv("PCN_MAIL_ATTACHMENT_MAX_BYTES", "1000")
    msg = mail()
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="facture.pdf")
    msg.add_attachment(b"MZ\x90\x00", maintype="application", subtype="octet-stream", filename="facture.exe")
    msg.add_attachment(b"MZ\x90\x00 not a png", maintype="image", subtype="png", filename="photo.png")
    msg.add_attachment(b"%PDF" + b"x" * 2000, maintype="application", subtype="pdf", filename="gros.pdf")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="../../etc/scan.png")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="trois.pdf")
    p = parse(bytes(msg))
    assert [(a.filename, a.content_type) for a in p.attachments] == [("facture.pdf", "application/pdf"),
                                                                     ("scan.png", "image/png")]
    assert p.flags["attachments_refused"] == ["facture.exe (type)", "photo.png (content)", "gros.pdf (size)",
                                              "trois.pdf (count)"]


def test_oversized_mail_keeps_its_text_and_lists_its_attachments(monkeypatch):
    monkeypatch.setenv("PCN_MAIL_MAX_BYTES", "2000")
    msg = mail()
    msg.add_attachment(PDF + b"x" * 3000, maintype="application", subtype="pdf", filename="dossier.pdf")
    p = parse(bytes(msg))
    assert p.flags.get("oversized") and "Espagne" in p.text
    assert p.attachments == [] and p.flags["attachments_refused"] == ["dossier.pdf (message)"]
