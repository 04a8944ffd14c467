"""actions/maintenance.py: the action server's NER pass and retention schedule."""
from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from actions import maintenance
from db.models import PrivacyAudit, utcnow
from db.retention import EVENTS
from db.session import session_scope


def _events(url: str, *texts: str) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    engine = sa.create_engine(url, future=True, poolclass=sa.pool.NullPool)
    SQLTrackerStore.Base.metadata.create_all(engine)
    with engine.begin() as c:
        for text in texts:
            c.execute(sa.insert(EVENTS).values(sender_id="c", type_name="user", timestamp=utcnow().timestamp(),
                                               data=json.dumps({"event": "user", "text": text})))
    engine.dispose()


def _texts(url: str) -> list:
    engine = sa.create_engine(url, future=True, poolclass=sa.pool.NullPool)
    with engine.connect() as c:
        texts = [json.loads(d)["text"] for d in c.execute(sa.select(EVENTS.c.data).order_by(EVENTS.c.id)).scalars()]
    engine.dispose()
    return texts


def test_importing_the_actions_starts_nothing():
    assert maintenance._stop is None   # only the action server calls start()


def test_ner_pass_catches_up_then_waits_for_new_rows(migrated_db):
    _events(migrated_db, *[f"J'ai parlé avec Ksenia Wołowska, message {k}" for k in range(3)])
    ner = maintenance._NerPass()
    assert ner.run() == 3
    assert all("[PERSON]" in t and "Wołowska" not in t for t in _texts(migrated_db))
    assert ner.run() == 0
    _events(migrated_db, "Et Oksana Wołowska aussi")
    assert ner.run() == 1


def test_retention_runs_when_due_only(migrated_db, monkeypatch):
    monkeypatch.setenv("PCN_RETENTION_EVERY_HOURS", "24")
    assert maintenance.run_if_due() is True
    assert maintenance.run_if_due() is False   # ran less than 24 h ago
    with session_scope() as s:
        s.execute(sa.update(PrivacyAudit).values(at=utcnow() - timedelta(hours=25)))
    assert maintenance.run_if_due() is True
    with session_scope() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(PrivacyAudit)) == 2
