"""Loads the language detector, spaCy and the situation terms when the action server starts.

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
        from core.situation_marks import warm_up as warm_up_situation

        warm_up()
        warm_up_situation()  # spaCy + the situation terms: about 4 s to build
        redact("Je m'appelle Jean Dupont et j'habite à Lyon.")
    except Exception:  # a failed warm-up only costs the first request some time
        logger.exception("warm-up failed")


if not settings.flag("PCN_NO_WARMUP"):
    threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
