"""Outgoing e-mail of the desk (acknowledgements, replies), over SMTP.

Settings (core/settings.py): ``PCN_SMTP_HOST`` (required to send),
``PCN_SMTP_PORT`` (default 25, or 587 with STARTTLS), ``PCN_SMTP_USER`` /
``PCN_SMTP_PASSWORD``, ``PCN_SMTP_FROM``, ``PCN_SMTP_STARTTLS``, ``PCN_SMTP_TIMEOUT``.
Messages are plain text; every one carries its own Message-ID so that the
requester's answer comes back to the same ticket (``In-Reply-To``).
"""
from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Optional

from core import settings


# Deliberately simple: one @, a dot in the domain, no spaces, RFC 5321 length.
ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                     r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def valid_address(value: str) -> bool:
    """A requester's address as the desk accepts it (chat form, console, mail sender)."""
    return len(value) <= 254 and bool(ADDRESS.match(value))


class MailNotConfigured(RuntimeError):
    pass


@dataclass
class SmtpSettings:
    host: Optional[str]
    port: int
    user: Optional[str]
    password: Optional[str]
    sender: str
    starttls: bool
    timeout: float

    @classmethod
    def from_env(cls) -> "SmtpSettings":
        starttls = settings.flag("PCN_SMTP_STARTTLS")
        port = settings.get("PCN_SMTP_PORT")
        return cls(
            host=settings.get("PCN_SMTP_HOST"),
            port=int(port) if port else (587 if starttls else 25),
            user=settings.get("PCN_SMTP_USER"),
            password=settings.get("PCN_SMTP_PASSWORD"),
            sender=settings.get("PCN_SMTP_FROM") or "pcn@cleiss.fr",
            starttls=starttls,
            timeout=float(settings.get("PCN_SMTP_TIMEOUT") or 10),
        )

    @property
    def configured(self) -> bool:
        return bool(self.host)

    def describe(self) -> str:
        """Where mail goes, for the console (never the password)."""
        return f"{self.host}:{self.port}" + (" (STARTTLS)" if self.starttls else "") if self.host else ""


@dataclass
class Outgoing:
    to: str
    subject: str
    body: str
    message_id: Optional[str] = None
    in_reply_to: Optional[str] = None
    auto_submitted: bool = False  # acknowledgements: RFC 3834, so that autoresponders stay quiet


def build_message(sender: str, mail: Outgoing) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = mail.message_id or make_msgid(domain=sender.split("@")[-1] or "pcn.local")
    if mail.in_reply_to:
        msg["In-Reply-To"] = mail.in_reply_to
        msg["References"] = mail.in_reply_to
    if mail.auto_submitted:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(mail.body)
    return msg


def send(mail: Outgoing, cfg: Optional[SmtpSettings] = None) -> None:
    """Send one message; raises on any failure (the outbox records it and retries)."""
    cfg = cfg or SmtpSettings.from_env()
    if not cfg.configured:
        raise MailNotConfigured("PCN_SMTP_HOST is not set")
    msg = build_message(cfg.sender, mail)
    with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout) as smtp:
        smtp.ehlo()
        if cfg.starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if cfg.user:
            smtp.login(cfg.user, cfg.password or "")
        smtp.send_message(msg)
