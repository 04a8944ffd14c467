"""Polls an existing PCN mailbox over IMAP (``PCN_IMAP_*``): each unseen mail is stored, then marked seen.

A mail is fetched with BODY.PEEK (it stays unseen) and flagged \\Seen only
after ``ingest`` stored it, so a crash or a database outage in between means
the next poll takes it again (and ``ingest`` ignores a mail already stored).
"""
from __future__ import annotations

import imaplib
import logging
import ssl
from dataclasses import dataclass
from typing import Optional

from core import settings
from mail.ingest import ingest

logger = logging.getLogger(__name__)


@dataclass
class ImapSettings:
    host: Optional[str]
    port: int
    use_ssl: bool
    user: Optional[str]
    password: Optional[str]
    mailbox: str

    @classmethod
    def from_env(cls) -> "ImapSettings":
        use_ssl = settings.flag("PCN_IMAP_SSL")
        port = settings.get("PCN_IMAP_PORT")
        return cls(host=settings.get("PCN_IMAP_HOST"), port=int(port) if port else (993 if use_ssl else 143),
                   use_ssl=use_ssl, user=settings.get("PCN_IMAP_USER"), password=settings.get("PCN_IMAP_PASSWORD"),
                   mailbox=settings.get("PCN_IMAP_MAILBOX") or "INBOX")

    @property
    def configured(self) -> bool:
        return bool(self.host and self.user)


def poll_once(cfg: Optional[ImapSettings] = None, limit: int = 500) -> int:
    """Store the mailbox's unseen mails (at most ``limit``); returns how many were handled."""
    cfg = cfg or ImapSettings.from_env()
    if not cfg.configured:
        return 0
    context = ssl.create_default_context()
    imap = (imaplib.IMAP4_SSL(cfg.host, cfg.port, ssl_context=context, timeout=30) if cfg.use_ssl
            else imaplib.IMAP4(cfg.host, cfg.port, timeout=30))
    try:
        if not cfg.use_ssl and "STARTTLS" in imap.capabilities:
            imap.starttls(ssl_context=context)
        imap.login(cfg.user, cfg.password or "")
        imap.select(cfg.mailbox)
        _, data = imap.uid("SEARCH", None, "UNSEEN")
        handled = 0
        for uid in (data[0] or b"").split()[:limit]:
            _, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in fetched if isinstance(part, tuple)), None)
            if raw is None:
                continue
            result = ingest(raw, "imap")  # raises on a storage error: the mail stays unseen
            imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            logger.info("imap mail %s: %s %s", uid.decode(), result.disposition, result.reference or "")
            handled += 1
        return handled
    finally:
        try:
            imap.logout()
        except Exception:  # noqa: BLE001
            pass
