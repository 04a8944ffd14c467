"""The desk's SMTP receiver: the organisation's mail server forwards the PCN's mail here.

It listens on ``PCN_INBOUND_SMTP_HOST``:``PCN_INBOUND_SMTP_PORT`` (loopback,
2525 by default) and answers 250 only once the mail is stored; on any storage
error it answers 451, so the forwarding server keeps the mail and tries again.
Mails up to twice ``PCN_MAIL_MAX_BYTES`` are taken (the larger ones among
them are kept as text and flagged); beyond that, 552: the sending server
tells its user the mail was not delivered.
"""
from __future__ import annotations

import asyncio
import logging

from aiosmtpd.controller import Controller

from core import settings
from mail.ingest import ingest

logger = logging.getLogger(__name__)


class Handler:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, ingest, raw, "smtp")
        except Exception:  # noqa: BLE001 - database down…: the sending server keeps the mail and retries
            logger.exception("inbound mail not stored, asking the sender to retry")
            return "451 4.3.0 Temporary failure, please try again later"
        logger.info("inbound mail: %s %s", result.disposition, result.reference or "")
        return "250 2.0.0 Message accepted"


def start(host: str | None = None, port: int | None = None) -> Controller:
    host = host or settings.get("PCN_INBOUND_SMTP_HOST")
    port = int(port if port is not None else settings.get("PCN_INBOUND_SMTP_PORT"))
    controller = Controller(Handler(), hostname=host, port=port,
                            data_size_limit=2 * int(settings.get("PCN_MAIL_MAX_BYTES")),
                            decode_data=False)
    controller.start()
    return controller
