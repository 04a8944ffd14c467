"""The desk's mail process: SMTP receiver, IMAP polling, outbox sending.

    python -m mail            (started by `make run`)

Every loop: the outbox is sent (every 2 s), the mailbox polled (every
``PCN_IMAP_POLL_SECONDS``). An error is logged and the loop goes on.
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
import time

from core import settings
from mail import classify, imap_poller, outbox, smtp_server

logger = logging.getLogger("mail")
OUTBOX_EVERY_S = 2.0


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    classify.load_pipeline()  # read the model once, before the first mail
    controller = None
    port = int(settings.get("PCN_INBOUND_SMTP_PORT") or 0)
    if port:
        controller = smtp_server.start(port=port)
        logger.info("SMTP receiver on %s:%s", settings.get("PCN_INBOUND_SMTP_HOST"), port)
    imap = imap_poller.ImapSettings.from_env()
    poll_every = float(settings.get("PCN_IMAP_POLL_SECONDS"))
    next_poll = 0.0
    try:
        while not stop.is_set():
            try:
                outbox.send_due()
            except Exception:  # noqa: BLE001 - database down: the outbox waits
                logger.exception("outbox")
            if imap.configured and time.monotonic() >= next_poll:
                try:
                    imap_poller.poll_once(imap)
                except Exception:  # noqa: BLE001 - mailbox or database down: polled again later
                    logger.exception("imap poll")
                next_poll = time.monotonic() + poll_every
            stop.wait(OUTBOX_EVERY_S)
    finally:
        if controller is not None:
            controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
