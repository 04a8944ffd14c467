"""Writes the enquiry log off the reply path, and loses nothing when the database is down.

Every user turn adds a few rows for the bilan; doing it inline would add a
database round trip to each reply and would break answers when the database
is down. So a write goes through two background threads:

1. the **journal** thread prepares it (the question text is redacted here,
   ~10 ms of spaCy) and appends it to a local journal,
   ``<PCN_SPOOL_DIR>/enquiry_log.jsonl`` (0600): from then on it survives a
   stop of the action server; ``resume()`` replays what a previous run left;
2. the **apply** thread writes it to the database, in order. While the
   database is unreachable it retries the pending write with back-off (later
   writes wait, journaled); after a write is applied a ``done`` line is
   appended, and the journal is emptied whenever nothing is pending. Other
   failures (a bug) are logged and the write is dropped; none reaches the user.

Times are taken when the user acted, not when the write lands. Raw text never
reaches the disk: it is redacted before it is journaled.

One conversation, one enquiry: Rasa starts a new session (and so a new
enquiry) when it cannot read a conversation from its database, i.e. at the
first turn of an outage. ``open_enquiry`` therefore gives a conversation seen
less than a session ago (``session_expiration_time`` of domain.yml) the
enquiry it already has; the map of recent conversations is kept in
``<PCN_SPOOL_DIR>/enquiry_conversations.json`` (0600) across restarts.

The action server (``actions/server.py``) calls ``resume()`` at start and
``shutdown()`` at stop; a process that only submits (tests) starts the
threads on first use.
"""
from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import queue
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from core import settings

logger = logging.getLogger(__name__)

_MAX_PENDING = 10_000  # beyond this the database is clearly down: drop, don't grow memory
RETRY_FIRST_S, RETRY_MAX_S = 0.5, 30.0  # back-off while the database is unreachable
RETRY_FOR_S = 24 * 3600.0               # then a write is dropped (and logged); it stays journaled until then
JOURNAL_FILE = "enquiry_log.jsonl"
CONVERSATIONS_FILE = "enquiry_conversations.json"
SESSION_MARGIN_S = 120  # a conversation idle for nearly a session may have expired in Rasa: start afresh


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _spool_dir() -> Path:
    from core.private_files import private_dir
    from core.settings import spool_dir

    return private_dir(spool_dir())


@functools.lru_cache(maxsize=1)
def session_seconds() -> float:
    """Rasa's session expiration (domain.yml), the life of one enquiry. Read once: parsing the domain
    took ~150 ms, at every session start, on the reply path."""
    from core.settings import REPO_ROOT

    try:
        import yaml

        domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8")) or {}
        minutes = float((domain.get("session_config") or {}).get("session_expiration_time", 60))
    except Exception:  # noqa: BLE001 - a default is better than no enquiry log
        minutes = 60.0
    return max(0.0, minutes * 60 - SESSION_MARGIN_S)


# ------------------------------------------------------------ the operations
def _repo():
    # Imported lazily so that the action server starts even without a database driver.
    from db.repositories import enquiries

    return enquiries


def _when(value: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(value) if value else None


def _apply_start(enquiry_id: str, conversation_id: str, channel: str, language: Optional[str], at: str) -> None:
    _repo().start_enquiry(enquiry_id=enquiry_id, conversation_id=conversation_id, channel=channel,
                          language=language, started_at=_when(at))


def _apply_question(at: str, text: Optional[str], **kwargs: Any) -> None:
    # ``text`` was redacted before it was journaled (_prepare)
    _repo().record_question(text_redacted=text, asked_at=_when(at), **kwargs)


def _apply_requester(enquiry_id: str, **values: Any) -> None:
    _repo().update_requester(enquiry_id, **values)


def _apply_feedback(enquiry_id: str, helpful: bool) -> None:
    _repo().record_feedback(enquiry_id, helpful)


def _apply_touch(enquiry_id: str, at: Optional[str] = None, **kwargs: Any) -> None:
    _repo().touch(enquiry_id, ended_at=_when(at), **kwargs)


OPERATIONS: Dict[str, Callable[..., None]] = {
    "start_enquiry": _apply_start,
    "record_question": _apply_question,
    "update_requester": _apply_requester,
    "record_feedback": _apply_feedback,
    "touch": _apply_touch,
}


def _prepare(op: str, args: Dict[str, Any]) -> Dict[str, Any]:
    """What is journaled: the question text redacted — identifiers and health terms
    masked, as the statistics keep it — never the raw text."""
    if op == "record_question" and args.get("text"):
        from core.privacy import redact_for_statistics

        args = {**args, "text": redact_for_statistics(args["text"])}
    return args


# ------------------------------------------------------------ the writer
class _Writer:
    def __init__(self) -> None:
        self._intake: "queue.Queue[Optional[Tuple[str, Dict[str, Any]]]]" = queue.Queue(maxsize=_MAX_PENDING)
        self._apply: "queue.Queue[Optional[Tuple[str, str, Dict[str, Any]]]]" = queue.Queue()
        self._threads: List[threading.Thread] = []
        self._lock = threading.Lock()          # threads and the journal file
        self._journal_dir: Optional[Path] = None
        self._unapplied = 0                    # journaled, not yet applied (or dropped)
        self._stopping = threading.Event()

    # -- journal file ---------------------------------------------------------------
    def _journal(self) -> Path:
        directory = _spool_dir()
        self._journal_dir = directory
        return directory / JOURNAL_FILE

    def _append(self, record: Dict[str, Any]) -> None:
        from core.private_files import open_private

        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        with open_private(self._journal(), "a") as handle:
            handle.write(line)
            handle.flush()

    def _read_pending(self) -> List[Tuple[str, str, Dict[str, Any]]]:
        path = self._journal()
        if not path.exists():
            return []
        entries: Dict[str, Tuple[str, str, Dict[str, Any]]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                logger.error("enquiry log journal: unreadable line skipped")  # a torn last line
                continue
            if "done" in record:
                entries.pop(record["done"], None)
            elif record.get("op") in OPERATIONS:
                entries[record["id"]] = (record["id"], record["op"], record.get("args") or {})
        return list(entries.values())

    def _compact(self, pending: List[Tuple[str, str, Dict[str, Any]]]) -> None:
        from core.private_files import open_private

        path = self._journal()
        if not pending:
            path.unlink(missing_ok=True)
            return
        tmp = path.with_suffix(".jsonl.tmp")
        with open_private(tmp, "w") as handle:
            for entry_id, op, args in pending:
                handle.write(json.dumps({"id": entry_id, "op": op, "args": args}, ensure_ascii=False,
                                        sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    # -- threads ----------------------------------------------------------------------
    def _ensure_started(self) -> None:
        with self._lock:
            if self._threads and all(t.is_alive() for t in self._threads):
                return
            self._stopping.clear()
            pending = self._read_pending()  # what a previous run journaled and did not apply
            self._compact(pending)
            for entry in pending:
                self._unapplied += 1
                self._apply.put(entry)
            if pending:
                logger.warning("enquiry log: %d write(s) of a previous run replayed from the journal", len(pending))
            self._threads = [
                threading.Thread(target=self._journal_loop, name="enquiry-log-journal", daemon=True),
                threading.Thread(target=self._apply_loop, name="enquiry-log", daemon=True),
            ]
            for thread in self._threads:
                thread.start()

    def submit(self, op: str, **args: Any) -> None:
        if settings.get("PCN_ENQUIRY_LOG") == "0":  # only for the side-by-side benchmark
            return
        self._ensure_started()
        try:
            self._intake.put_nowait((op, args))
        except queue.Full:
            logger.error("enquiry log queue full: dropping %s", op)

    def _journal_loop(self) -> None:
        while True:
            item = self._intake.get()
            try:
                if item is None:
                    return
                op, args = item
                try:
                    args = _prepare(op, args)
                    entry = (uuid.uuid4().hex, op, args)
                    with self._lock:
                        self._append({"id": entry[0], "op": op, "args": args})
                        self._unapplied += 1
                except Exception:  # noqa: BLE001 - disk full or a bug: still try to apply it
                    logger.exception("enquiry log: %s not journaled", op)
                    entry = ("", op, {**args, "text": None} if op == "record_question" else args)
                    with self._lock:
                        self._unapplied += 1
                self._apply.put(entry)
            finally:
                self._intake.task_done()

    def _apply_loop(self) -> None:
        while True:
            item = self._apply.get()
            try:
                if item is None:
                    return
                entry_id, op, args = item
                if self._run(op, args) is None:
                    return  # stopping: the write stays in the journal for the next run
                with self._lock:
                    self._unapplied -= 1
                    try:
                        if self._unapplied == 0:
                            self._compact([])     # everything applied: empty the journal
                        elif entry_id:
                            self._append({"done": entry_id})
                    except OSError:
                        logger.exception("enquiry log journal not updated (the write may be replayed once)")
            finally:
                self._apply.task_done()

    def _run(self, op: str, args: Dict[str, Any]) -> Optional[bool]:
        """Applies one write; True when applied or dropped, None when stopping before it could be."""
        from sqlalchemy.exc import InterfaceError, OperationalError

        delay, waited = RETRY_FIRST_S, 0.0
        while True:
            try:
                OPERATIONS[op](**args)
                return True
            except (OperationalError, InterfaceError) as error:
                if waited >= RETRY_FOR_S:
                    logger.error("enquiry log: database still unreachable after %.0f s, %s dropped", waited, op)
                    return True
                logger.warning("enquiry log: database unreachable, retrying %s in %.1f s: %s",
                               op, delay, type(error).__name__)
                if self._stopping.wait(delay):
                    return None
                waited += delay
                delay = min(2 * delay, RETRY_MAX_S)
            except Exception:  # a bug, not an outage: the log must never take the assistant down
                logger.exception("enquiry log write failed: %s", op)
                return True

    # -- waiting and stopping ---------------------------------------------------------------
    def drain(self, timeout: float = 10.0) -> bool:
        """Waits until every submitted write has been applied (or timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._intake.unfinished_tasks == 0 and self._apply.unfinished_tasks == 0:
                return True
            time.sleep(0.02)
        return False

    def journal_all(self, timeout: float = 5.0) -> bool:
        """Waits until every submitted write is at least journaled."""
        deadline = time.monotonic() + timeout
        while self._intake.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return self._intake.unfinished_tasks == 0

    def shutdown(self, timeout: float = 5.0) -> None:
        """Journals what was submitted, applies what the database takes within ``timeout``, stops."""
        if not self._threads:
            return
        self.journal_all(timeout)
        self.drain(timeout)
        self._stopping.set()
        self._intake.put(None)
        self._apply.put(None)
        for thread in self._threads:
            thread.join(timeout)
        with self._lock:
            self._threads = []
            self._unapplied = 0
        self._intake = queue.Queue(maxsize=_MAX_PENDING)
        self._apply = queue.Queue()


# ------------------------------------------------------------ recent conversations
class _Conversations:
    """conversation id -> (enquiry id, last seen, epoch seconds), persisted 0600."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._map: Dict[str, Tuple[str, float]] = {}
        self._by_enquiry: Dict[str, str] = {}
        self._loaded_from: Optional[Path] = None

    def _path(self) -> Path:
        return _spool_dir() / CONVERSATIONS_FILE

    def _load(self) -> None:
        path = self._path()
        if self._loaded_from == path:
            return
        self._map, self._by_enquiry, self._loaded_from = {}, {}, path
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except (OSError, ValueError):
            data = {}
        for conversation, (enquiry_id, seen) in data.items():
            self._map[conversation] = (enquiry_id, float(seen))
            self._by_enquiry[enquiry_id] = conversation

    def _save(self) -> None:
        from core.private_files import open_private

        path = self._path()
        tmp = path.with_suffix(".json.tmp")
        with open_private(tmp, "w") as handle:
            json.dump(self._map, handle)
        os.replace(tmp, path)

    def _prune(self, now: float, window: float) -> None:
        for conversation in [c for c, (_, seen) in self._map.items() if now - seen > window]:
            enquiry_id, _ = self._map.pop(conversation)
            self._by_enquiry.pop(enquiry_id, None)

    def open(self, conversation_id: str, now: float, window: float) -> Tuple[str, bool]:
        """(enquiry id, new?) for a conversation starting a session at ``now``."""
        with self._lock:
            self._load()
            self._prune(now, window)
            known = self._map.get(conversation_id)
            if known:
                enquiry_id, new = known[0], False
            else:
                enquiry_id, new = uuid.uuid4().hex, True
            self._map[conversation_id] = (enquiry_id, now)
            self._by_enquiry[enquiry_id] = conversation_id
            try:
                self._save()
            except OSError:
                logger.exception("enquiry log: recent conversations not saved")
            return enquiry_id, new

    def seen(self, enquiry_id: str, now: float) -> None:
        with self._lock:
            self._load()
            conversation = self._by_enquiry.get(enquiry_id)
            if conversation:
                self._map[conversation] = (enquiry_id, now)

    def save(self) -> None:
        with self._lock:
            if self._loaded_from is not None:
                try:
                    self._save()
                except OSError:
                    logger.exception("enquiry log: recent conversations not saved")


_writer = _Writer()
_conversations = _Conversations()


def _save_conversations() -> None:
    _conversations.save()


atexit.register(_save_conversations)
atexit.register(lambda: _writer.shutdown(5.0))


# ------------------------------------------------------------ the actions' API
def open_enquiry(conversation_id: str, channel: str, language: Optional[str]) -> str:
    """The enquiry of a conversation session: the conversation's current one if it was
    seen less than a session ago (Rasa restarted the session because of an outage),
    else a new one, started in the log."""
    enquiry_id, new = _conversations.open(conversation_id, time.time(), session_seconds())
    if new:
        start_enquiry(enquiry_id=enquiry_id, conversation_id=conversation_id, channel=channel, language=language)
    return enquiry_id


def start_enquiry(*, enquiry_id: str, conversation_id: str, channel: str, language: Optional[str]) -> None:
    _writer.submit("start_enquiry", enquiry_id=enquiry_id, conversation_id=conversation_id, channel=channel,
                   language=language, at=_now().isoformat())


def record_question(*, text: str, **kwargs: Any) -> None:
    """Logs a question; the redaction (spaCy, ~10 ms) runs off the reply path, before the journal."""
    _writer.submit("record_question", text=text, at=_now().isoformat(), **kwargs)


def update_requester(enquiry_id: str, **kwargs: Any) -> None:
    values = {k: v for k, v in kwargs.items() if v}
    if values:
        _writer.submit("update_requester", enquiry_id=enquiry_id, **values)


def record_feedback(enquiry_id: str, helpful: bool) -> None:
    _writer.submit("record_feedback", enquiry_id=enquiry_id, helpful=bool(helpful))


def touch(enquiry_id: str, **kwargs: Any) -> None:
    _conversations.seen(enquiry_id, time.time())
    _writer.submit("touch", enquiry_id=enquiry_id, at=_now().isoformat(), **kwargs)


def drain(timeout: float = 10.0) -> bool:
    return _writer.drain(timeout)


def resume() -> None:
    """At the start of the action server: replay the journal of a previous run."""
    _writer._ensure_started()


def shutdown(timeout: float = 5.0) -> None:
    """At the stop of the action server: everything submitted is journaled, then applied if possible."""
    _conversations.save()
    _writer.shutdown(timeout)
