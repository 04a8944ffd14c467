"""actions.enquiry_log: a database outage delays the enquiry log, it does not empty it."""
from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from actions import enquiry_log
from db import migrate
from db.session import dispose_engine
from tests.tcp_proxy import TcpProxy



@pytest.mark.postgres
def test_writes_made_during_an_outage_are_applied_in_order_once_it_ends(postgres_url, monkeypatch, spool_dir):
    migrate.upgrade(postgres_url)
    proxy, proxied = TcpProxy.in_front_of(postgres_url)
    monkeypatch.setenv("PCN_DATABASE_URL", proxied)
    monkeypatch.setattr(enquiry_log, "RETRY_FIRST_S", 0.2)
    monkeypatch.setattr(enquiry_log, "RETRY_MAX_S", 0.5)
    enquiry_id = str(uuid.uuid4())
    try:
        proxy.cut()
        enquiry_log.start_enquiry(enquiry_id=enquiry_id, conversation_id="outage-1", channel="web", language="fr")
        enquiry_log.update_requester(enquiry_id, profile="IND", origin_country="BE")
        enquiry_log.record_feedback(enquiry_id, True)
        assert not enquiry_log.drain(1.5), "nothing can be written while the database is down"
        proxy.start()
        assert enquiry_log.drain(30)
    finally:
        proxy.cut()
        dispose_engine(proxied)
    engine = sa.create_engine(postgres_url, future=True)
    with engine.connect() as connection:
        row = connection.execute(sa.text(
            "SELECT conversation_id, profile, origin_country, origin_group, feedback_helpful FROM enquiries WHERE id = :i"),
            {"i": enquiry_id}).one()
    engine.dispose()
    assert tuple(row) == ("outage-1", "IND", "BE", "UK_BE_DE_ES_PL", True)


def test_a_failing_write_that_is_not_an_outage_is_dropped_not_retried(monkeypatch, spool_dir):
    calls = []

    def broken(**_: object) -> None:
        calls.append(time.monotonic())
        raise ValueError("a bug")

    monkeypatch.setitem(enquiry_log.OPERATIONS, "record_feedback", broken)
    enquiry_log.record_feedback("no-such-enquiry", True)
    assert enquiry_log.drain(5)
    assert len(calls) == 1


def test_the_session_length_is_read_from_the_domain_once_not_at_every_session_start():
    """Parsing domain.yml took ~150 ms on the reply path of every first message."""
    from actions import enquiry_log

    enquiry_log.session_seconds.cache_clear()
    first = enquiry_log.session_seconds()
    assert enquiry_log.session_seconds() == first > 0
    assert enquiry_log.session_seconds.cache_info().misses == 1
