"""Writes the enquiry log off the reply path.

Every user turn adds a few rows for the bilan; doing it inline would add a
database round trip to each reply and would break answers when the database
is down. A single background thread applies the writes in order; while the
database is unreachable it retries the pending write with back-off (later
writes wait in a bounded queue); other failures are logged; none reaches the
user. `drain()` lets tests and shutdown wait.
"""
from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from typing import Any, Callable, Optional

from core import settings

logger = logging.getLogger(__name__)

_MAX_PENDING = 10_000  # beyond this the database is clearly down: drop, don't grow memory
RETRY_FIRST_S, RETRY_MAX_S = 0.5, 30.0  # back-off while the database is unreachable
RETRY_FOR_S = 15 * 60.0                 # then a write is dropped (and logged)


class _Writer:
    def __init__(self) -> None:
        self._queue: "queue.Queue[Optional[tuple]]" = queue.Queue(maxsize=_MAX_PENDING)
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="enquiry-log", daemon=True)
                self._thread.start()

    def submit(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if settings.get("PCN_ENQUIRY_LOG") == "0":  # only for the side-by-side benchmark
            return
        self._ensure_started()
        try:
            self._queue.put_nowait((function, args, kwargs))
        except queue.Full:
            logger.error("enquiry log queue full: dropping %s", getattr(function, "__name__", function))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._apply(*item)
            finally:
                self._queue.task_done()

    def _apply(self, function: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        """Applies one write; while the database is unreachable, retries it (in order,
        with back-off) instead of dropping it, so a short outage loses no enquiry."""
        from sqlalchemy.exc import InterfaceError, OperationalError

        delay, waited = RETRY_FIRST_S, 0.0
        while True:
            try:
                function(*args, **kwargs)
                return
            except (OperationalError, InterfaceError) as error:
                if waited >= RETRY_FOR_S:
                    logger.error("enquiry log: database still unreachable after %.0f s, write dropped: %s",
                                 waited, error)
                    return
                logger.warning("enquiry log: database unreachable, retrying in %.1f s: %s", delay, error)
                time.sleep(delay)
                waited += delay
                delay = min(2 * delay, RETRY_MAX_S)
            except Exception:  # a bug, not an outage: the log must never take the assistant down
                logger.exception("enquiry log write failed: %s", getattr(function, "__name__", function))
                return

    def drain(self, timeout: float = 10.0) -> bool:
        """Waits until every submitted write has been applied (or timeout)."""
        done = threading.Event()

        def _wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=_wait, daemon=True).start()
        return done.wait(timeout)


_writer = _Writer()
atexit.register(_writer.drain, 5.0)


def _repo():
    # Imported lazily so that the action server starts even without a database driver.
    from db.repositories import enquiries

    return enquiries


def start_enquiry(**kwargs: Any) -> None:
    _writer.submit(lambda: _repo().start_enquiry(**kwargs))


def record_question(*, text: str, **kwargs: Any) -> None:
    """Logs a question; the redaction (spaCy, ~10 ms) also runs off the reply path."""

    def write() -> None:
        from core.privacy import redact

        _repo().record_question(text_redacted=redact(text), **kwargs)

    _writer.submit(write)


def update_requester(enquiry_id: str, **kwargs: Any) -> None:
    values = {k: v for k, v in kwargs.items() if v}
    if values:
        _writer.submit(lambda: _repo().update_requester(enquiry_id, **values))


def record_feedback(enquiry_id: str, helpful: bool) -> None:
    _writer.submit(lambda: _repo().record_feedback(enquiry_id, helpful))


def touch(enquiry_id: str, **kwargs: Any) -> None:
    _writer.submit(lambda: _repo().touch(enquiry_id, **kwargs))


def drain(timeout: float = 10.0) -> bool:
    return _writer.drain(timeout)
