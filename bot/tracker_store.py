"""Rasa tracker store configured from one SQLAlchemy URL (the desk database).

endpoints.yml::

    tracker_store:
      type: bot.tracker_store.UrlSQLTrackerStore
      url: ${PCN_DATABASE_URL}

Rasa 3.6 instantiates custom stores as
``cls(host=store.url, domain=..., event_broker=..., **store.kwargs)``
(``rasa.core.tracker_store._load_from_module_name_in_endpoint_config``). The
stock ``SQLTrackerStore`` would split the URL into dialect/host/db and, when
the database is down at start-up, retry forever. This subclass:

* takes the whole URL (``host`` or ``url``; default ``PCN_DATABASE_URL`` /
  the SQLite file ``data/pcn.db``): ``sqlite:////abs/path.db``,
  ``sqlite:///relative.db`` and ``postgresql://user:pw@host:5432/db`` all work;
* builds its engine like the rest of the desk (``db.session``: 2 s connect
  timeout and pre-ping on PostgreSQL, WAL and a busy timeout on SQLite, so the
  Rasa server, the action server and the console can share one SQLite file);
* tries to create Rasa's ``events`` table a bounded number of times and, if
  the database is down, starts anyway and creates it on first successful use;
* keeps a conversation in memory while the database is down. Rasa's own
  ``FailSafeTrackerStore`` saves to memory on a failed ``save`` but answers a
  failed ``retrieve`` with ``None``, so every turn of an outage would start a
  new conversation (an escalation form could never be completed). Here a
  tracker that could not be written stays in a memory mirror, is served from
  there, and is written on the first save that succeeds — all its events when
  Rasa had to start it afresh because the stored conversation could not be read.

Nothing raw at rest: every event is written redacted (``core.privacy.redact_event``:
the user's text and parse data, slot values such as ``last_question_text``,
``escalation_question`` and ``contact_email``, bot texts, entity values; a user
message keeps only its ``language`` and ``channel`` metadata). On the reply path
the redaction is the pattern rules only (a fraction of a millisecond for a user
message; the assistant's own texts, which repeat, are redacted once and cached);
within seconds the action server passes spaCy's NER over the new rows (names
without a cue: ``db.retention.redact_new_events``, run by actions/maintenance.py),
so neither the NER cost nor spaCy's memory is in the Rasa server. The live
conversation keeps the raw text in memory for the current turn only: the next
turn is read back redacted. ``PCN_TRACKER_REDACTION``: ``ner`` (default),
``patterns`` (no NER pass), ``off`` (side-by-side benchmark only).

The ``events`` table is Rasa's; Alembic ignores it (db/migrations/env.py). Its
retention (rows of conversations inactive for N days are deleted) is in
``db/retention.py``.
"""
from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from typing import Any, Dict, Generator, Iterator, List, Optional, Set, Text

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.domain import Domain

from core.privacy import redact_event

logger = logging.getLogger(__name__)

# SQLTrackerStore arguments that describe the URL piecewise: meaningless here.
_IGNORED_KWARGS = ("dialect", "port", "db", "username", "password", "login_db", "query")


def redaction_mode() -> str:
    from core import settings

    mode = (settings.get("PCN_TRACKER_REDACTION") or "ner").strip().lower()
    return mode if mode in ("ner", "patterns", "off") else "ner"


def _display(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "<invalid url>"


class UrlSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` from a single SQLAlchemy URL."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        url: Optional[Text] = None,
        connect_retries: int = 3,
        retry_delay: float = 1.0,
        **kwargs: Dict[Text, Any],
    ) -> None:
        from db.session import new_engine
        from core import settings

        for name in _IGNORED_KWARGS:
            if kwargs.pop(name, None) is not None:
                logger.warning("tracker store: '%s' is ignored, give a full 'url'", name)
        database_url = url or host
        if not database_url or "://" not in str(database_url):
            if database_url:
                logger.warning("tracker store: %r is not a URL, using PCN_DATABASE_URL", database_url)
            database_url = settings.database_url()
        self.url = str(database_url)
        # Rasa's own code uses the 1.x Query API: keep a non-"future" engine for it.
        self.engine = new_engine(self.url, future=False)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._tables_ready = False
        self._tables_lock = threading.Lock()
        logger.debug("tracker store on %s", _display(self.url))

        for attempt in range(1, max(1, int(connect_retries)) + 1):
            if self._ensure_tables():
                break
            if attempt < connect_retries:
                time.sleep(retry_delay)
        if not self._tables_ready:
            logger.error(
                "tracker store: database %s unreachable at start-up; conversations are "
                "kept in memory until it is back",
                _display(self.url),
            )
        TrackerStore.__init__(self, domain, event_broker, **kwargs)
        # conversations whose last save failed (database down), by sender id
        self._unsaved = InMemoryTrackerStore(self.domain)
        # conversations whose tracker Rasa had to recreate because retrieving it failed
        self._detached: Set[Text] = set()
        self.redaction = redaction_mode()

    def _ensure_tables(self) -> bool:
        if self._tables_ready:
            return True
        with self._tables_lock:
            if self._tables_ready:
                return True
            try:
                self.Base.metadata.create_all(self.engine)
            except sa.exc.SQLAlchemyError as error:
                # also raised when two processes (e.g. two Rasa workers) create the table at
                # the same time: PostgreSQL then reports a unique violation on its catalogue
                try:
                    ready = sa.inspect(self.engine).has_table(self.SQLEvent.__tablename__)
                except sa.exc.SQLAlchemyError:
                    ready = False
                if not ready:
                    logger.warning("tracker store: cannot create tables yet: %s", error)
                    return False
            self._tables_ready = True
            return True

    @contextlib.contextmanager
    def session_scope(self) -> Generator[sa.orm.Session, None, None]:
        self._ensure_tables()
        with super().session_scope() as session:
            yield session

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        if sender_id in self._unsaved.store:
            self._unsaved.domain = self.domain
            return await self._unsaved.retrieve(sender_id)
        try:
            return await super().retrieve(sender_id)
        except sa.exc.SQLAlchemyError:
            # Rasa goes on with a new tracker: none of its events is in the database
            self._detached.add(sender_id)
            raise

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        if conversation_id in self._unsaved.store:
            self._unsaved.domain = self.domain
            return await self._unsaved.retrieve_full_tracker(conversation_id)
        return await super().retrieve_full_tracker(conversation_id)

    def _stored_form(self, data: Dict[Text, Any]) -> Dict[Text, Any]:
        return data if self.redaction == "off" else redact_event(data, use_ner=False)

    async def _stream_new_events(self, event_broker: EventBroker, new_events: List[Event], sender_id: Text) -> None:
        """An event broker (none is configured here) gets the redacted events too."""
        for event in new_events:
            event_broker.publish({"sender_id": sender_id, **self._stored_form(event.as_dict())})

    async def _write(self, tracker: DialogueStateTracker) -> None:
        """``SQLTrackerStore.save`` with each event redacted before it is written."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                row = self.SQLEvent(
                    sender_id=tracker.sender_id,
                    type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=(data.get("parse_data") or {}).get("intent", {}).get("name"),
                    action_name=data.get("name"),
                    data=json.dumps(self._stored_form(data)),
                )
                session.add(row)
            session.commit()

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await self._write(tracker)
        except sa.exc.SQLAlchemyError as error:
            logger.error("tracker store: conversation %s kept in memory until the database is back: %s",
                         tracker.sender_id, error)
            await self._unsaved.save(tracker)
        else:
            self._unsaved.store.pop(tracker.sender_id, None)
            self._detached.discard(tracker.sender_id)

    def _additional_events(self, session: sa.orm.Session, tracker: DialogueStateTracker) -> Iterator:
        if tracker.sender_id in self._detached:
            # Started while the database was down: the stored count (of an earlier
            # session) says nothing about this tracker, all of whose events are new.
            return iter(tracker.events)
        return super()._additional_events(session, tracker)
