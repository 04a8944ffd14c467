"""One received mail → the desk: a new ticket, a reply joining its thread, or a logged auto-reply.

The order matters for "none is lost": a mail counts as received only once it
is stored (the SMTP receiver answers 250 after ``ingest`` returns; the IMAP
poller marks it seen after). A second delivery of the same mail changes nothing.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Optional

from core.language import detect_language
from core.privacy import redact
from core.profiles import origin_of, profile_of
from core.situation import read_message
from db.repositories import mailbox
from mail import classify
from mail.parse import Attachment, ParsedMail, parse

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Result:
    disposition: str              # new_ticket | thread | auto | loop | duplicate
    reference: Optional[str] = None


def _stated(text: str) -> dict:
    """Profile and countries only where the mail states them (unknown rather than wrong): the chat's
    reader (core/situation.py, bench/eval_profile_origin.py)."""
    reading = read_message(text, "fr" if detect_language(text) == "fr" else "en")
    return {"profile": profile_of(reading), "origin_country": origin_of(reading),
            "treatment_country": reading.situation.treatment_country}


def _stored(parsed: ParsedMail, source: str, raw: bytes) -> mailbox.StoredMail:
    flags = dict(parsed.flags)
    attachments = [mailbox.Attachment(a.filename, a.content_type, a.data, a.sha256) for a in parsed.attachments]
    if flags.get("malformed") or flags.get("charset"):
        # the text had to be rebuilt: the agent gets the original, as a download
        original = Attachment("message-original.eml", "message/rfc822", raw)
        attachments.append(mailbox.Attachment(original.filename, original.content_type, original.data,
                                              original.sha256))
    text = parsed.text
    return mailbox.StoredMail(
        message_key=parsed.message_key, source=source, size=parsed.size, from_addr=parsed.from_addr,
        subject=redact(parsed.subject) if parsed.subject else "", body=redact(text) if text else "",
        message_id=parsed.message_id, references=parsed.references, auto=parsed.auto, flags=flags,
        attachments=attachments)


def ingest(raw: bytes, source: str) -> Result:
    parsed = parse(raw)
    if mailbox.already_received(parsed.message_key):
        return Result("duplicate")
    mail = _stored(parsed, source, raw)
    if parsed.auto == "loop":
        mailbox.log_only(mail, "loop")
        return Result("loop")
    ticket_id = mailbox.find_thread(parsed.subject, parsed.references)
    if parsed.auto:
        if ticket_id is None:
            mailbox.log_only(mail, "auto")
            return Result("auto")
        return Result("auto", mailbox.add_to_thread(ticket_id, mail))
    if ticket_id is not None:
        return Result("thread", mailbox.add_to_thread(ticket_id, mail))
    sample = (parsed.subject + "\n" + parsed.text).strip()
    mail.language = detect_language(sample[:2000], hint="fr") if sample else "fr"
    suggestion = classify.suggest(sample)
    mail.intent, mail.confidence = suggestion.intent, suggestion.confidence
    mail.question_code, mail.category = suggestion.question_code, suggestion.category
    for key, value in _stated(sample[:5000]).items():
        setattr(mail, key, value)
    return Result("new_ticket", mailbox.store_new_ticket(mail))
