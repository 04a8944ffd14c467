"""Loads the language detector and spaCy when the action server starts.

Both load lazily (1–2 s each); warming them in the background keeps the first
user of the day from waiting.
"""
from __future__ import annotations

import logging
import threading

from core import settings

logger = logging.getLogger(__name__)


def _warm_up() -> None:
    try:
        from core.language import warm_up
        from core.privacy import redact

        warm_up()
        redact("Je m'appelle Jean Dupont et j'habite à Lyon.")
    except Exception:  # a failed warm-up only costs the first request some time
        logger.exception("warm-up failed")


if not settings.flag("PCN_NO_WARMUP"):
    threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
