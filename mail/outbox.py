"""Sends what waits in the outbox: acknowledgements (written from the ACK template in the
requester's language at send time) and replies, with retries (db/repositories/outbox.py)."""
from __future__ import annotations

import logging
from typing import Callable, Optional

from core.smtp import Outgoing, SmtpSettings, send
from db.repositories import outbox, templates

logger = logging.getLogger(__name__)


def render(row: dict) -> tuple[str, str]:
    code = templates.ACK if row["kind"] == "ack" else templates.GENERIC
    return templates.render(code, row["language"] or "fr", row["reference"] or "")


def send_due(sender: Optional[Callable[[Outgoing], None]] = None) -> int:
    """Try every e-mail whose time has come; returns how many left. Nothing is tried while SMTP is
    not configured (the e-mails wait, their retries are not spent)."""
    if sender is None and not SmtpSettings.from_env().configured:
        return 0
    sent = 0
    for outbox_id in outbox.due():
        error = outbox.attempt(outbox_id, sender or send, render)
        if error:
            logger.warning("outbox %s not sent (will retry): %s", outbox_id, error)
        else:
            sent += 1
    return sent
