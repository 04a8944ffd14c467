"""Faults injected into a real desk, and what was lost or duplicated (issue 11).

    .venv/bin/python bench/bench_faults.py [--conversations 3]

Starts a desk as `make run` does (tests/servers.py: Rasa, action server, web) on a fresh
PostgreSQL database behind a TCP proxy, with the default settings (spool retried every
30 s), then:

A. database cut; N new conversations escalate (question, agent, e-mail, consent) and one
   conversation begun before the cut goes on; database back: time until every spooled ticket
   is stored without anyone running `db flush-spool`; tickets, enquiries and questions per
   conversation;
B. database cut; N new conversations ask a question; the action server is stopped (SIGTERM)
   and restarted; database back: enquiries and questions per conversation;
C. the action server hung (SIGSTOP): the time to the "temporarily unavailable" reply.

Prints a Markdown table (the figures of bench/RESULTS.md, "Faults").
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers import start_desk  # noqa: E402
from tests.tcp_proxy import TcpProxy  # noqa: E402

ADMIN_URL = os.environ.get("PCN_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
QUESTION = "Comment me faire rembourser des soins payés en Espagne ?"


def wait_until(condition, timeout: float) -> float:
    """Seconds until ``condition()`` held (polled every 0.5 s), or -1 after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.5)
    return -1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=3)
    args = parser.parse_args()
    name = f"pcn_bench_faults_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, future=True, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    direct = sa.engine.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    proxy, proxied = TcpProxy.in_front_of(direct)
    desk = start_desk(database_url=proxied, web=False)
    engine = sa.create_engine(direct, future=True)

    def count(sql: str, **params) -> int:
        with engine.connect() as c:
            return int(c.execute(sa.text(sql), params).scalar() or 0)

    per = {
        "tickets": "SELECT count(*) FROM tickets WHERE conversation_id = :c",
        "enquiries": "SELECT count(*) FROM enquiries WHERE conversation_id = :c",
        "questions": "SELECT count(*) FROM enquiry_questions q JOIN enquiries e ON e.id = q.enquiry_id "
                     "WHERE e.conversation_id = :c",
    }
    rows = []
    try:
        # A. escalations during an outage, and a conversation that spans it
        spanning = "span-" + uuid.uuid4().hex[:6]
        desk.send(spanning, "Qu'est-ce que le formulaire S2 ?", "fr")
        wait_until(lambda: count(per["questions"], c=spanning) == 1, 60)
        proxy.cut()
        senders = [f"esc-{i}-" + uuid.uuid4().hex[:6] for i in range(args.conversations)]
        for sender in senders:
            desk.send(sender, QUESTION, "fr", timeout=90)
            for step in ("/request_human", "/affirm", f"{sender}@example.org", "/affirm"):
                desk.send(sender, step, "fr", timeout=90)
        desk.send(spanning, QUESTION, "fr", timeout=90)
        proxy.start()
        stored_after = wait_until(lambda: sum(count(per["tickets"], c=s) for s in senders) == len(senders), 120)
        wait_until(lambda: count(per["questions"], c=spanning) == 2, 120)
        wait_until(lambda: all(count(per["questions"], c=s) >= 1 for s in senders), 120)
        rows.append(("A. DB cut, escalations", f"{len(senders)} escalations + 1 spanning conversation",
                     f"tickets stored {stored_after:.1f} s after the DB came back (no manual flush)",
                     [count(per["tickets"], c=s) for s in senders],
                     [count(per["enquiries"], c=s) for s in senders + [spanning]],
                     [count(per["questions"], c=s) for s in senders + [spanning]]))

        # B. the action server stopped during an outage
        proxy.cut()
        stopped = [f"stop-{i}-" + uuid.uuid4().hex[:6] for i in range(args.conversations)]
        for sender in stopped:
            desk.send(sender, QUESTION, "fr", timeout=90)
        desk.restart("actions")  # SIGTERM, then started again
        proxy.start()
        written = wait_until(lambda: all(count(per["questions"], c=s) >= 1 for s in stopped), 180)
        rows.append(("B. DB cut, action server SIGTERM + restart", f"{len(stopped)} conversations",
                     f"enquiry log written {written:.1f} s after the DB came back",
                     [count(per["tickets"], c=s) for s in stopped],
                     [count(per["enquiries"], c=s) for s in stopped],
                     [count(per["questions"], c=s) for s in stopped]))

        # C. a hung action server
        actions = desk.processes["actions"]
        times = []
        os.kill(actions.pid, signal.SIGSTOP)
        try:
            for _ in range(3):
                started = time.monotonic()
                reply = desk.send("hung-" + uuid.uuid4().hex[:6], "Bonjour", "fr", timeout=60)
                times.append(time.monotonic() - started)
                assert "indisponible" in reply[-1]["text"]
        finally:
            os.kill(actions.pid, signal.SIGCONT)
        rows.append(("C. action server SIGSTOP", "3 messages",
                     "reply 'temporarily unavailable' after " + ", ".join(f"{t:.1f}" for t in times) + " s",
                     [], [], []))
    finally:
        proxy.cut()
        desk.stop()
        engine.dispose()
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    print("| fault | traffic | outcome | tickets per conversation | enquiries per conversation | questions per conversation |")
    print("|---|---|---|---|---|---|")
    for fault, traffic, outcome, tickets, enquiries, questions in rows:
        print(f"| {fault} | {traffic} | {outcome} | {tickets or '—'} | {enquiries or '—'} | {questions or '—'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
