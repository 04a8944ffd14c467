"""Background work of the action server (the desk's long-running process): the NER
pass over Rasa's stored events, and the retention job.

The action server (actions/server.py) starts one thread with ``start()`` before it
serves, and stops it with ``stop()``. After ``PCN_RETENTION_START_DELAY_S`` (the
models warm up first) the thread

* every ``NER_PASS_EVERY_S`` seconds, passes spaCy's NER over the events the tracker
  store wrote since the last pass (``db.retention.redact_new_events``; the store
  applies the pattern rules only, to keep the Rasa server's replies fast and spaCy
  out of its memory) — unless ``PCN_TRACKER_REDACTION`` is ``patterns`` or ``off``;
* every hour, checks whether the last retention run (``privacy_audit``) is older
  than ``PCN_RETENTION_EVERY_HOURS`` and runs ``db.retention.run_retention`` if so.

Several action servers on one database each do this; both jobs are idempotent, and
the check makes a second retention run within the period rare. ``PCN_RETENTION_EVERY_HOURS=0`` turns
the retention off here (then schedule ``python -m db retention`` elsewhere).
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Optional

from core import settings

logger = logging.getLogger(__name__)
CHECK_EVERY_S = 3600.0
NER_PASS_EVERY_S = 10.0
NER_PASS_START_BACK = timedelta(hours=1)   # at start, rows of the last hour (the daily run covers 2 days)


def run_if_due() -> bool:
    from db.retention import is_due, run_retention

    every = timedelta(hours=float(settings.get("PCN_RETENTION_EVERY_HOURS")))
    if not is_due(every):
        return False
    run_retention()
    return True


class _NerPass:
    def __init__(self) -> None:
        self.after_id: Optional[int] = None

    def run(self) -> int:
        from db.models import utcnow
        from db.retention import events_watermark, redact_new_events

        if self.after_id is None:
            self.after_id = events_watermark(utcnow() - NER_PASS_START_BACK)
        changed = 0
        while True:   # in batches, until it has caught up
            last, batch = redact_new_events(self.after_id)
            changed += batch
            if last == self.after_id:
                return changed
            self.after_id = last


def _loop(stop: threading.Event) -> None:
    if stop.wait(float(settings.get("PCN_RETENTION_START_DELAY_S"))):
        return
    ner_pass = _NerPass() if (settings.get("PCN_TRACKER_REDACTION") or "ner") == "ner" else None
    every_hours = float(settings.get("PCN_RETENTION_EVERY_HOURS") or 0)
    next_retention = time.monotonic()
    while True:
        if ner_pass is not None:
            try:
                ner_pass.run()
            except Exception:  # database down…: the rows wait for the next pass
                logger.warning("NER pass over stored events failed", exc_info=True)
        if every_hours > 0 and time.monotonic() >= next_retention:
            next_retention = time.monotonic() + min(CHECK_EVERY_S, 3600 * every_hours)
            try:
                run_if_due()
            except Exception:  # database down, not migrated yet…: try again at the next check
                logger.warning("retention job failed; next try in %.0f s", CHECK_EVERY_S, exc_info=True)
        if stop.wait(NER_PASS_EVERY_S if ner_pass is not None else CHECK_EVERY_S):
            return


_stop: Optional[threading.Event] = None


def start() -> None:
    """Starts the thread (once per process); the action server calls it (actions/server.py)."""
    global _stop
    if _stop is None or _stop.is_set():
        _stop = threading.Event()
        threading.Thread(target=_loop, args=(_stop,), name="maintenance", daemon=True).start()


def stop() -> None:
    if _stop is not None:
        _stop.set()
