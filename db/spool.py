"""Local spool of tickets that could not be stored (database unreachable).

The spool is one JSON line per ``TicketDraft`` in ``<PCN_SPOOL_DIR>/tickets.jsonl``,
appended and fsync'ed before the user is told the request was queued.
``flush_spool()`` replays it with the idempotent ``create_ticket`` and rewrites
the file (atomically) with only the lines that were not stored, so a replay
interrupted at any point neither loses nor duplicates a ticket. An exclusive
``flock`` on ``tickets.lock`` serialises appends and flushes across processes
(Rasa's action server, the console, ``python -m db flush-spool``).

The action server retries the spool in the background (``start_background_flush``,
every ``PCN_SPOOL_FLUSH_SECONDS``), so a request waits for the database, not
for the next escalation. The spool holds e-mail addresses: its folder is
created 0700 and its files 0600 (``core/private_files.py``).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from db.models import Ticket
from db.repositories.tickets import TicketDraft, create_ticket
from core.private_files import open_private, private_dir
from core.settings import spool_dir

logger = logging.getLogger(__name__)

SPOOL_FILE = "tickets.jsonl"
LOCK_FILE = "tickets.lock"

_thread_lock = threading.RLock()
_flusher: Optional["_BackgroundFlush"] = None


def get_spool_dir() -> Path:
    return private_dir(spool_dir())


def spool_path() -> Path:
    return get_spool_dir() / SPOOL_FILE


@contextlib.contextmanager
def _locked() -> Iterator[Path]:
    directory = get_spool_dir()
    with _thread_lock:
        with open_private(directory / LOCK_FILE, "a+") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield directory / SPOOL_FILE
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def spool_ticket(draft: TicketDraft) -> Path:
    """Append the draft to the spool and fsync it. Raises OSError if the disk fails."""
    line = json.dumps(draft.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
    with _locked() as path:
        created = not path.exists()
        with open_private(path, "a") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        if created:
            _fsync_dir(path.parent)
    logger.warning("ticket %s spooled to %s", draft.idempotency_key, path)
    return path


def pending_drafts() -> List[TicketDraft]:
    """Drafts waiting in the spool (malformed lines are skipped here, kept in the file)."""
    path = spool_path()
    if not path.exists():
        return []
    drafts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                drafts.append(TicketDraft.from_dict(json.loads(line)))
            except (ValueError, TypeError):
                logger.error("malformed spool line kept: %r", line[:200])
    return drafts


def flush_spool() -> Tuple[int, int]:
    """Store spooled drafts; returns ``(stored, remaining)``.

    A draft whose ticket already exists (same idempotency key) counts as stored.
    Lines that fail (database still down, malformed line) stay in the spool.
    """
    with _locked() as path:
        if not path.exists():
            return 0, 0
        lines = path.read_text(encoding="utf-8").splitlines()
        keep: List[str] = []
        stored = 0
        database_down = False
        for line in lines:
            if not line.strip():
                continue
            if database_down:
                keep.append(line)
                continue
            try:
                draft = TicketDraft.from_dict(json.loads(line))
            except (ValueError, TypeError):
                logger.error("malformed spool line kept: %r", line[:200])
                keep.append(line)
                continue
            try:
                create_ticket(draft)
                stored += 1
            except Exception as error:  # noqa: BLE001 - keep the draft, whatever happened
                from sqlalchemy.exc import OperationalError, InterfaceError

                logger.warning("spooled ticket %s not stored yet: %s", draft.idempotency_key, error)
                keep.append(line)
                # stop hammering a database that is down; other errors are per draft
                database_down = isinstance(error, (OperationalError, InterfaceError))
        if keep:
            tmp = path.with_suffix(".jsonl.tmp")
            with open_private(tmp, "w") as handle:
                handle.write("\n".join(keep) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        else:
            path.unlink()
        _fsync_dir(path.parent)
    if stored:
        logger.info("spool flushed: %d stored, %d remaining", stored, len(keep))
    return stored, len(keep)


def create_ticket_or_spool(draft: TicketDraft) -> Tuple[Optional[Ticket], bool]:
    """Create the ticket, or spool it if the database cannot take it.

    Returns ``(ticket, False)`` when stored, ``(None, True)`` when spooled (tell
    the user the request is queued and will be handled). Raises only if even
    the spool cannot be written. After a successful create, older spooled
    drafts are replayed opportunistically.
    """
    try:
        ticket = create_ticket(draft)
    except Exception as error:  # noqa: BLE001 - database down, timeout, pool exhausted, bad draft…
        # Even an invalid draft (ValueError) is spooled rather than lost: it is
        # logged as an error and stays in the spool until someone fixes it.
        logger.error("ticket %s could not be stored, spooling it: %s", draft.idempotency_key, error)
        spool_ticket(draft)
        return None, True
    if spool_path().exists():
        try:
            flush_spool()
        except Exception:  # noqa: BLE001 - the new ticket is stored; the spool stays for later
            logger.warning("spool flush failed", exc_info=True)
    return ticket, False


class _BackgroundFlush(threading.Thread):
    """Retries the spool every ``interval`` seconds while the action server runs."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="spool-flush", daemon=True)
        self.interval = max(1.0, float(interval))
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                if spool_path().exists():
                    flush_spool()
            except Exception:  # noqa: BLE001 - the next round tries again
                logger.warning("background spool flush failed", exc_info=True)


def start_background_flush(interval: float) -> None:
    """Starts the background retry of the spool (once per process)."""
    global _flusher
    with _thread_lock:
        if _flusher is None or not _flusher.is_alive():
            _flusher = _BackgroundFlush(interval)
            _flusher.start()


def stop_background_flush() -> None:
    global _flusher
    with _thread_lock:
        flusher, _flusher = _flusher, None
    if flusher is not None:
        flusher.stopped.set()
