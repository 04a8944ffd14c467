"""Alembic migrations on SQLite and PostgreSQL: upgrade from empty, downgrade,
upgrade again; the models match the migrations; Rasa's table is left alone."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from db import migrate

REPO_ROOT = Path(__file__).resolve().parents[2]
DESK_TABLES = {"enquiries", "enquiry_questions", "tickets", "ticket_messages", "ticket_audit", "desk_users"}


def _tables(url: str) -> set:
    engine = sa.create_engine(url, future=True, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _diff(url: str) -> list:
    return migrate.compare_to_models(url)


def test_db_upgrade_downgrade_upgrade(database_url):
    assert migrate.current(database_url) == []
    migrate.upgrade(database_url)
    assert DESK_TABLES <= _tables(database_url)
    assert migrate.current(database_url) == migrate.heads()
    assert migrate.is_up_to_date(database_url)

    migrate.downgrade(database_url, "base")
    assert _tables(database_url) & DESK_TABLES == set()
    assert migrate.current(database_url) == []

    migrate.upgrade(database_url)
    assert DESK_TABLES <= _tables(database_url)


def test_db_models_match_migrations(database_url):
    assert _diff(database_url), "the comparison must see the tables missing before upgrade"
    migrate.upgrade(database_url)
    assert _diff(database_url) == []


def migrate_versions_dir():
    from pathlib import Path

    return Path(migrate.__file__).resolve().parent / "migrations" / "versions"


def test_db_single_head():
    """One linear history: every revision file is on the path to the single head."""
    heads = migrate.heads()
    assert len(heads) == 1
    revisions = sorted(p.name.split("_")[0] for p in (migrate_versions_dir()).glob("[0-9]*.py"))
    assert heads == [revisions[-1]]


def test_db_rasa_events_table_is_ignored(database_url):
    """The tracker store's `events` table shares the database: autogenerate must
    not propose to drop it and downgrade must not touch it."""
    from rasa.core.tracker_store import SQLTrackerStore

    migrate.upgrade(database_url)
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    SQLTrackerStore.Base.metadata.create_all(engine)
    engine.dispose()
    assert _diff(database_url) == []
    migrate.downgrade(database_url, "base")
    assert "events" in _tables(database_url)


def test_db_indexes_for_the_bilan(database_url):
    migrate.upgrade(database_url)
    engine = sa.create_engine(database_url, future=True, poolclass=sa.pool.NullPool)
    try:
        inspector = sa.inspect(engine)

        def indexed(table):
            return {tuple(ix["column_names"]) for ix in inspector.get_indexes(table)}

        assert {("started_at",), ("origin_group",)} <= indexed("enquiries")
        assert ("enquiry_id",) in indexed("enquiry_questions")
        assert {("status",), ("created_at",)} <= indexed("tickets")
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("tickets")}
        # SQLite may report unique constraints as unique indexes
        uniques |= {tuple(ix["column_names"]) for ix in inspector.get_indexes("tickets") if ix.get("unique")}
        assert {("reference",), ("idempotency_key",)} <= uniques
    finally:
        engine.dispose()


def test_db_cli_upgrade_current_downgrade(sqlite_url):
    env = dict(os.environ, PCN_DATABASE_URL=sqlite_url)

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "db", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    result = run("current")
    assert result.returncode == 0, result.stderr
    assert "base" in result.stdout and "NOT up to date" in result.stdout
    result = run("upgrade")
    assert result.returncode == 0, result.stderr
    result = run("current")
    assert f"{migrate.heads()[0]} (up to date)" in result.stdout
    result = run("downgrade", "base")
    assert result.returncode == 0, result.stderr
    assert _tables(sqlite_url) & DESK_TABLES == set()
