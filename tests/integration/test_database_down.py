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
    assert "Base légale" in texts(desk.send("before-" + uuid.uuid4().hex[:6], "Qu'est-ce que le formulaire S2 ?", "fr"))

    proxy.cut()
    sender = "down-" + uuid.uuid4().hex[:6]
    answer = desk.send(sender, "Comment me faire rembourser des soins payés en Espagne ?", "fr", timeout=90)
    assert "Base légale" in texts(answer), "the assistant must keep answering without its database"
    desk.send(sender, "/request_human", "fr", timeout=90)
    desk.send(sender, "/affirm", "fr", timeout=90)
    desk.send(sender, "paul@example.org", "fr", timeout=90)
    done = desk.send(sender, "/affirm", "fr", timeout=90)
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
    def logged_questions():
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT e.outcome, count(q.id) AS questions FROM enquiries e LEFT JOIN enquiry_questions q "
                "ON q.enquiry_id = e.id WHERE e.conversation_id = :c GROUP BY e.outcome"), {"c": sender}).all()
        return rows if rows and rows[0].questions >= 1 else None
    try:
        logged = wait_until(logged_questions, 60, "the enquiry log written during the outage", interval=1)
    except TimeoutError:
        logged = None
    engine.dispose()
    assert logged and logged[0].questions >= 1, logged
