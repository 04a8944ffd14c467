"""PostgreSQL (the production path) goes down while the desk runs: the assistant
still answers, a submitted escalation is kept, and is stored exactly once when
the database is back; the enquiry log of the outage is written then too."""
from __future__ import annotations

import re
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa

from core.settings import REPO_ROOT
from tests.servers import start_desk
from tests.tcp_proxy import TcpProxy
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def texts(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies)


@pytest.fixture
def desk_behind_proxy(postgres_url):
    proxy, proxied = TcpProxy.in_front_of(postgres_url)
    desk = start_desk(database_url=proxied, web=False)
    yield desk, proxy, postgres_url
    proxy.cut()
    desk.stop()


def test_database_down_answers_and_keeps_the_ticket(desk_behind_proxy):
    desk, proxy, direct_url = desk_behind_proxy
    before = "before-" + uuid.uuid4().hex[:6]
    assert texts(desk.send(before, "Qu'est-ce que le formulaire S2 ?", "fr"))

    proxy.cut()
    sender = "down-" + uuid.uuid4().hex[:6]
    answer = desk.send(sender, "Comment me faire rembourser des soins payés en Espagne ?", "fr", timeout=90)
    # the assistant keeps answering without its database (which question it answered: the log, below)
    assert texts(answer) and "indisponible" not in texts(answer), texts(answer)
    desk.send(sender, "/request_human", "fr", timeout=90)
    desk.send(sender, "/affirm", "fr", timeout=90)
    desk.send(sender, "/affirm", "fr", timeout=90)
    done = desk.send(sender, "paul@example.org", "fr", timeout=90)
    assert "enregistrée" in texts(done) and not re.search(r"PCN-\d{4}-\d{6}", texts(done))

    proxy.start()
    flushed = subprocess.run([sys.executable, "-m", "db", "flush-spool"], cwd=REPO_ROOT, env=desk.env,
                             capture_output=True, text=True, timeout=120)
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    subprocess.run([sys.executable, "-m", "db", "flush-spool"], cwd=REPO_ROOT, env=desk.env, check=True,
                   capture_output=True, timeout=120)  # a second replay stores nothing twice
    engine = sa.create_engine(direct_url, future=True)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT reference, contact_email FROM tickets WHERE conversation_id = :c"),
                                  {"c": sender}).all()
    assert len(rows) == 1 and rows[0].contact_email == "paul@example.org"
    assert re.fullmatch(r"PCN-\d{4}-\d{6}", rows[0].reference)

    # the enquiry log written during the outage arrives too (the action server retries it)
    def question_codes(conversation: str):
        with engine.connect() as connection:
            return [row.question_code for row in connection.execute(sa.text(
                "SELECT q.question_code FROM enquiries e JOIN enquiry_questions q ON q.enquiry_id = e.id "
                "WHERE e.conversation_id = :c ORDER BY q.asked_at"), {"c": conversation})]
    try:
        wait_until(lambda: question_codes(sender), 60, "the enquiry log written during the outage", interval=1)
    finally:
        logged, logged_before = question_codes(sender), question_codes(before)
        engine.dispose()
    # the question types the assistant recognised: a claim for care paid abroad (C1), the S2 form (B4)
    assert logged[:1] == ["C1"], logged
    assert logged_before[:1] == ["B4"], logged_before
