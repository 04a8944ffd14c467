"""Engines and sessions.

* one engine per URL, cached (``get_engine``), created lazily: importing this
  module never connects;
* ``session_scope()`` commits on success and rolls back on error;
* a down database fails fast: PostgreSQL ``connect_timeout`` of 2 s and
  ``pool_pre_ping``; SQLite waits up to 15 s for a lock (several processes –
  Rasa, the action server, Streamlit – share the file) and runs in WAL mode
  with foreign keys enforced.

SQLAlchemy 1.4 is pinned by Rasa 3.6: engines and sessions are created with
``future=True`` so that all code here uses the 2.0 API (``select()``,
``session.execute()``, ``session.scalars()``) and runs unchanged on 2.x.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Dict, Iterator, Optional

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from core import settings
from core.private_files import create_private_file


def ensure_sqlite_folder(url: str) -> None:
    """Create the parent folder of a SQLite file URL, and the file itself with mode 0600
    (no-op for other backends)."""
    if not url.startswith("sqlite"):
        return
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        create_private_file(Path(database).expanduser().resolve())

PG_CONNECT_TIMEOUT_S = 2
SQLITE_BUSY_TIMEOUT_S = 15

_engines: Dict[str, Engine] = {}
_sessionmakers: Dict[str, sessionmaker] = {}
_lock = threading.Lock()


def engine_kwargs(url: str) -> Dict[str, Any]:
    """``create_engine`` keyword arguments for ``url`` (shared with Alembic and the tracker store)."""
    backend = make_url(url).get_backend_name()
    # hide_parameters: an SQL error must not write the bound values (e-mail addresses,
    # question texts) into the logs
    kwargs: Dict[str, Any] = {"future": True, "pool_pre_ping": True, "hide_parameters": True}
    if backend == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
        kwargs["pool_size"] = 5
        kwargs["max_overflow"] = 10
    elif backend == "sqlite":
        kwargs["connect_args"] = {
            "timeout": SQLITE_BUSY_TIMEOUT_S,
            "check_same_thread": False,
        }
        if make_url(url).database not in (None, "", ":memory:"):
            # SQLAlchemy 1.4 opens a new file connection (and its PRAGMAs) per
            # session by default; keep a few open as 2.0 does (one thread each at a time).
            kwargs["poolclass"] = QueuePool
    return kwargs


def _sqlite_on_connect(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def install_sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys, WAL and NORMAL sync on every new SQLite connection."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)


def new_engine(url: str, **overrides: Any) -> Engine:
    """A new (uncached) engine configured like the cached ones."""
    ensure_sqlite_folder(url)
    kwargs = engine_kwargs(url)
    if "poolclass" in overrides:
        kwargs.pop("pool_size", None)
        kwargs.pop("max_overflow", None)
    kwargs.update(overrides)
    engine = create_engine(url, **kwargs)
    install_sqlite_pragmas(engine)
    return engine


def get_engine(url: Optional[str] = None) -> Engine:
    """The cached engine of ``url`` (default: ``PCN_DATABASE_URL``)."""
    url = url or settings.database_url()
    engine = _engines.get(url)
    if engine is None:
        with _lock:
            engine = _engines.get(url)
            if engine is None:
                engine = new_engine(url)
                _engines[url] = engine
                _sessionmakers[url] = sessionmaker(
                    bind=engine, future=True, expire_on_commit=False
                )
    return engine


def get_sessionmaker(url: Optional[str] = None) -> sessionmaker:
    url = url or settings.database_url()
    get_engine(url)
    return _sessionmakers[url]


@contextlib.contextmanager
def session_scope(url: Optional[str] = None) -> Iterator[Session]:
    """A transactional scope: commit on success, rollback on any exception.

    Objects stay readable after the block (``expire_on_commit=False``), but
    relationships that were not loaded inside the block cannot be loaded later.
    """
    session: Session = get_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engine(url: Optional[str] = None) -> None:
    """Close the pooled connections of one cached engine (or of all when ``url`` is None)."""
    with _lock:
        urls = [url] if url else list(_engines)
        for key in urls:
            engine = _engines.pop(key, None)
            _sessionmakers.pop(key, None)
            if engine is not None:
                engine.dispose()
