"""Outgoing e-mail of the desk (replies to requesters), over SMTP.

Settings from the environment:

``PCN_SMTP_HOST`` (required to send), ``PCN_SMTP_PORT`` (default 25, or 587
with STARTTLS), ``PCN_SMTP_USER`` / ``PCN_SMTP_PASSWORD`` (optional login),
``PCN_SMTP_FROM`` (sender address, default ``pcn@cleiss.fr``),
``PCN_SMTP_STARTTLS`` (``1``/``true`` to upgrade the connection),
``PCN_SMTP_TIMEOUT`` (seconds, default 10).
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Optional

from core import settings


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
            sender=settings.get("PCN_SMTP_FROM"),
            starttls=starttls,
            timeout=float(settings.get("PCN_SMTP_TIMEOUT")),
        )

    @property
    def configured(self) -> bool:
        return bool(self.host)


def build_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.split("@")[-1] or "pcn.local")
    msg.set_content(body)
    return msg


def send_mail(to: str, subject: str, body: str, settings: Optional[SmtpSettings] = None) -> None:
    """Send one plain-text message; raises on any failure (the caller records it)."""
    cfg = settings or SmtpSettings.from_env()
    if not cfg.configured:
        raise MailNotConfigured("PCN_SMTP_HOST is not set")
    msg = build_message(cfg.sender, to, subject, body)
    with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout) as smtp:
        smtp.ehlo()
        if cfg.starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if cfg.user:
            smtp.login(cfg.user, cfg.password or "")
        smtp.send_message(msg)
