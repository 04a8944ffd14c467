"""Settings of the data layer, read from the environment on every call.

``PCN_DATABASE_URL``  SQLAlchemy URL. Default: ``sqlite:///<repo>/data/pcn.db``
                      (the data folder is created on demand). PostgreSQL:
                      ``postgresql://user:password@host:5432/dbname`` (psycopg2).
``PCN_SPOOL_DIR``     folder of the ticket spool used when the database is
                      unreachable. Default: ``<repo>/data/spool``.

Values are not cached, so tests (and the launcher) can change them at run time.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"

DATABASE_URL_ENV = "PCN_DATABASE_URL"
SPOOL_DIR_ENV = "PCN_SPOOL_DIR"


def default_database_url() -> str:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DATA_DIR / 'pcn.db'}"


def get_database_url() -> str:
    """The configured database URL (``PCN_DATABASE_URL`` or the default SQLite file)."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if not url:
        return default_database_url()
    # Heroku-style "postgres://" is not accepted by SQLAlchemy 1.4+.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    ensure_sqlite_folder(url)
    return url


def ensure_sqlite_folder(url: str) -> None:
    """Create the parent folder of a SQLite file URL (no-op for other backends)."""
    if not url.startswith("sqlite"):
        return
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def get_spool_dir() -> Path:
    """The spool folder (created on demand)."""
    raw = os.environ.get(SPOOL_DIR_ENV, "").strip()
    path = Path(raw).expanduser() if raw else DATA_DIR / "spool"
    path.mkdir(parents=True, exist_ok=True)
    return path
