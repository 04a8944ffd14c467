"""Alembic, programmatically: ``upgrade``, ``downgrade``, ``current``, ``heads``.

Used by ``python -m db`` and by the tests. ``url`` defaults to ``PCN_DATABASE_URL``.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from db.session import new_engine
from core import settings

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"

# Tables that live in the same database but are not ours.
FOREIGN_TABLES = frozenset({"events"})  # Rasa's SQLTrackerStore (bot/tracker_store.py)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: ignore Rasa's tracker table and its indexes/columns."""
    if type_ == "table":
        return name not in FOREIGN_TABLES
    table = getattr(obj, "table", None)
    return not (table is not None and table.name in FOREIGN_TABLES)


def compare_to_models(url: Optional[str] = None) -> list:
    """Differences between the database schema and ``db.models`` (empty list: in sync)."""
    from alembic.autogenerate import compare_metadata

    from db.models import metadata

    engine = new_engine(url or settings.database_url(), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": include_object, "compare_type": True}
            )
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def alembic_config(url: Optional[str] = None, *, configure_logging: bool = False) -> Config:
    config = Config(str(ALEMBIC_INI))
    # passed as an attribute, not as sqlalchemy.url: ConfigParser would choke on "%" in passwords
    config.attributes["database_url"] = url or settings.database_url()
    config.attributes["configure_logging"] = configure_logging
    return config


def upgrade(url: Optional[str] = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: Optional[str] = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def heads() -> List[str]:
    return list(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current(url: Optional[str] = None) -> List[str]:
    """Revisions the database is at (empty list: not migrated)."""
    engine = new_engine(url or settings.database_url(), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return list(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def is_up_to_date(url: Optional[str] = None) -> bool:
    return set(current(url)) == set(heads())
