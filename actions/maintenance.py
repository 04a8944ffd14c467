"""The retention job, run by the action server (the desk's long-running process).

rasa-sdk imports every module of the ``actions`` package at start; when that
process is the action server (``python -m rasa_sdk`` or ``rasa run actions`` —
not a test or a script importing an action), this starts the job's thread. It waits ``PCN_RETENTION_START_DELAY_S`` (the models warm up first),
then checks every hour whether the last run (``privacy_audit``) is older than
``PCN_RETENTION_EVERY_HOURS`` and runs ``db.retention.run_retention`` if so. Several
action servers on one database each check; the job is idempotent, and the check
makes a second run within the period rare. ``PCN_RETENTION_EVERY_HOURS=0`` turns
it off (then schedule ``python -m db retention`` elsewhere).
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from core import settings

logger = logging.getLogger(__name__)
CHECK_EVERY_S = 3600.0


def run_if_due() -> bool:
    from db.retention import is_due, run_retention

    every = timedelta(hours=float(settings.get("PCN_RETENTION_EVERY_HOURS")))
    if not is_due(every):
        return False
    run_retention()
    return True


def _loop(stop: threading.Event) -> None:
    if stop.wait(float(settings.get("PCN_RETENTION_START_DELAY_S"))):
        return
    while True:
        try:
            run_if_due()
        except Exception:  # database down, not migrated yet…: try again at the next check
            logger.warning("retention job failed; next try in %.0f s", CHECK_EVERY_S, exc_info=True)
        if stop.wait(min(CHECK_EVERY_S, 3600 * float(settings.get("PCN_RETENTION_EVERY_HOURS")))):
            return


def start() -> threading.Event:
    """Starts the job's thread (once); returns the event that stops it."""
    stop = threading.Event()
    threading.Thread(target=_loop, args=(stop,), name="retention", daemon=True).start()
    return stop


def _in_action_server() -> bool:
    import sys

    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and (spec.name or "").startswith("rasa_sdk"):
        return True
    return sys.argv[1:3] == ["run", "actions"]


if _in_action_server() and float(settings.get("PCN_RETENTION_EVERY_HOURS") or 0) > 0:
    _stop = start()
