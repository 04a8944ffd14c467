"""Data at rest on this machine: files 0600 in folders 0700, whatever the umask; SQL errors
logged without their bound values (no e-mail address in the logs). Each probe failed on the
code before issue 11 (main 0f8abbf)."""
from __future__ import annotations

import logging
import os
import stat
import time

import pytest
import sqlalchemy as sa


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_spool_and_sqlite_files_are_private(tmp_path, monkeypatch, open_umask):
    from db.repositories.tickets import TicketDraft
    from db.session import dispose_engine, get_engine
    from db.spool import spool_ticket

    monkeypatch.setenv("PCN_SPOOL_DIR", str(tmp_path / "spool"))
    path = spool_ticket(TicketDraft(idempotency_key="modes-1", contact_email="modes@example.org"))
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert mode(path.parent / "tickets.lock") == 0o600
    url = f"sqlite:///{tmp_path / 'data' / 'pcn.db'}"
    with get_engine(url).connect() as connection:
        connection.execute(sa.text("CREATE TABLE t (x TEXT)"))
    dispose_engine(url)
    assert mode(tmp_path / "data" / "pcn.db") == 0o600


def test_the_enquiry_log_journal_is_private_and_holds_no_raw_text(tmp_path, monkeypatch, open_umask):
    from actions import enquiry_log

    monkeypatch.setenv("PCN_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("PCN_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/down")  # the database is down
    enquiry_log.record_question(enquiry_id="e1", text="Mon numéro est le 06 12 34 56 78, jean@example.org",
                                intent="x", confidence=0.5, question_code=None, category=None, outcome="answered")
    journal = tmp_path / "spool" / "enquiry_log.jsonl"
    deadline = time.monotonic() + 60  # the first redaction loads spaCy
    try:
        while not (journal.exists() and "record_question" in journal.read_text()):
            assert time.monotonic() < deadline, "the write was not journaled while the database is down"
            time.sleep(0.05)
        assert mode(journal) == 0o600
        text = journal.read_text()
        assert "06 12 34 56 78" not in text and "jean@example.org" not in text
    finally:
        enquiry_log.shutdown(0.5)


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_an_sql_error_does_not_log_its_parameters(database, request, caplog):
    from db.session import dispose_engine, get_engine

    url = request.getfixturevalue({"sqlite": "sqlite_url", "postgresql": "postgres_url"}[database])
    engine = get_engine(url)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(sa.exc.SQLAlchemyError) as raised:
            with engine.connect() as connection:
                connection.execute(sa.text("INSERT INTO no_such_table (email) VALUES (:email)"),
                                   {"email": "victim@example.org"})
        logging.getLogger("db").error("ticket not stored: %s", raised.value)
    dispose_engine(url)
    assert "victim@example.org" not in str(raised.value)
    assert "victim@example.org" not in caplog.text
