"""The production path for real: PostgreSQL for the enquiry log, tickets and
Rasa's tracker store, the Redis lock store, and two Rasa workers sharing them.
Several conversations at once, each of which must keep its state whichever
worker takes each of its messages."""
from __future__ import annotations

import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.servers import start_desk
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

REDIS = (os.environ.get("PCN_TEST_REDIS_HOST", "127.0.0.1"), int(os.environ.get("PCN_TEST_REDIS_PORT", "6379")))


def texts(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies)


@pytest.fixture
def redis_server():
    import redis

    try:
        redis.Redis(host=REDIS[0], port=REDIS[1], socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis unreachable at {REDIS}: {error}", pytrace=False)
        pytest.skip(f"Redis unreachable at {REDIS}: {error}")
    return REDIS


@pytest.fixture
def production_desk(postgres_url, redis_server):
    desk = start_desk(
        database_url=postgres_url, web=False, endpoints="endpoints.production.yml",
        extra_env={"PCN_REDIS_HOST": redis_server[0], "PCN_REDIS_PORT": str(redis_server[1]), "SANIC_WORKERS": "2"},
    )
    yield desk
    desk.stop()


def conversation(desk, language: str) -> str:
    """A question, a switch of language, an escalation to its end; returns the sender."""
    sender = f"prod-{language}-{uuid.uuid4().hex[:8]}"
    question = ("Comment me faire rembourser des soins payés en Espagne ?" if language == "fr"
                else "How do I get reimbursed for treatment I paid for in Spain?")
    assert texts(desk.send(sender, question, language))  # which question it answered: the log, below
    desk.send(sender, "/request_human", language)
    desk.send(sender, "/affirm", language)
    desk.send(sender, "/affirm", language)
    done = texts(desk.send(sender, f"{sender}@example.org", language))
    assert re.search(r"PCN-\d{4}-\d{6}", done), done
    return sender


def test_two_rasa_workers_on_postgresql_and_redis(production_desk):
    desk = production_desk
    log = (desk.workdir / "rasa.log").read_text(errors="replace")
    assert log.count("Loading model") == 2, log[-3000:]  # one model per worker

    with ThreadPoolExecutor(max_workers=6) as pool:
        senders = list(pool.map(lambda k: conversation(desk, "fr" if k % 2 else "en"), range(6)))

    engine = sa.create_engine(desk.database_url, future=True)
    with engine.connect() as connection:
        tickets = connection.execute(sa.text(
            "SELECT conversation_id, contact_email FROM tickets WHERE conversation_id LIKE 'prod-%'")).all()
        stored = {row.sender_id for row in connection.execute(sa.text(
            "SELECT DISTINCT sender_id FROM events WHERE sender_id LIKE 'prod-%'"))}
    engine.dispose()
    # one ticket per conversation, none twice, each with its own address
    assert sorted(t.conversation_id for t in tickets) == sorted(senders)
    assert all(t.contact_email == f"{t.conversation_id}@example.org" for t in tickets)
    assert stored == set(senders)  # Rasa's tracker store is the PostgreSQL database
    # every asker's question was recognised as what it is: a claim for care paid abroad (C1)
    engine = sa.create_engine(desk.database_url, future=True)

    def codes():
        with engine.connect() as connection:
            return {row.conversation_id: row.question_code for row in connection.execute(sa.text(
                "SELECT e.conversation_id, q.question_code FROM enquiries e JOIN enquiry_questions q "
                "ON q.enquiry_id = e.id WHERE e.conversation_id LIKE 'prod-%'"))}
    try:
        logged = wait_until(lambda: len(codes()) == len(senders) and codes(), 30, "the enquiry log")
    finally:
        engine.dispose()
    assert logged == {sender: "C1" for sender in senders}
