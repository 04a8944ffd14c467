"""Privacy by design, end to end, against a real desk (Rasa + action server) on SQLite
and on PostgreSQL:

1. the desk's own retention job runs at start and clears what is due (seeded data
   older than the periods);
2. a scripted conversation full of personal data (NIR, IBAN, phone, e-mails, names,
   an address, a date of birth, health conditions) ending in an escalation leaves
   none of it raw at rest: every table, the spool and the logs are scanned (the
   contact address only in ``tickets.contact_email``; health terms only where an
   agent needs them — the ticket — and in the redacted conversation, never in the
   statistics); Rasa's tracker API serves the redacted conversation too;
3. the requester's data is exported, then erased, with the command line; afterwards
   nothing of them is left, and the counts of the bilan are unchanged.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from db import migrate
from tests.security.pii import scan_database, scan_files, table_counts
from tests.servers import start_desk

CONTACT = "contact.jeanne@example.org"
IDENTIFIERS = {
    "name": "Jeanne Martin",
    "doctor": "Lefebvre",
    "bare_name": "Wołowska",
    "birth": "12/03/1985",
    "nir": "1 85 05 78 006 084 91",
    "iban": "FR76 3000 6000 0112 3456 7890 189",
    "phone": "06 12 34 56 78",
    "email": "jeanne.perso@example.org",
    "street": "12 rue de la Paix",
    "postcode": "75002 Paris",
    "contact": CONTACT,
}
HEALTH = {"cancer": "cancer du sein", "chemo": "chimiothérapie"}
SCRIPT = [
    "Bonjour, je m'appelle Jeanne Martin, née le 12/03/1985, mon numéro de sécu est 1 85 05 78 006 084 91",
    "J'ai un cancer du sein et ma demande de remboursement pour ma chimiothérapie à Bruxelles a été refusée "
    "par la CPAM, comment contester ? Mon IBAN : FR76 3000 6000 0112 3456 7890 189",
    "Vous pouvez m'appeler au 06 12 34 56 78 ou écrire à jeanne.perso@example.org, j'habite 12 rue de la Paix, "
    "75002 Paris. Le docteur Lefebvre me suit, et mon amie Ksenia Wołowska aussi.",
    "/request_human",
    "/affirm",          # the question shown back is the right one
    "/affirm",          # consent, under the privacy notice
    CONTACT,            # the address, asked last: the ticket is created in this turn
]
# where a value may legitimately be
ALLOWED = {("contact", "tickets", "contact_email")} | {
    (name, table, column) for name in HEALTH
    for table, column in (("tickets", "question_text"), ("tickets", "transcript"), ("events", "data"))}
OLD_REQUESTER = "old.requester@example.org"


def _seed_old_data(url: str) -> None:
    """A conversation 40 days old and a ticket resolved 400 days ago: due for retention."""
    from rasa.core.tracker_store import SQLTrackerStore

    from db.retention import EVENTS

    migrate.upgrade(url)
    engine = sa.create_engine(url, future=True, poolclass=sa.pool.NullPool)
    SQLTrackerStore.Base.metadata.create_all(engine)
    old = datetime.now(timezone.utc) - timedelta(days=400)
    with engine.begin() as c:
        c.execute(sa.insert(EVENTS).values(sender_id="old-conversation", type_name="user",
                                           timestamp=(datetime.now(timezone.utc) - timedelta(days=40)).timestamp(),
                                           data=json.dumps({"event": "user", "text": "[PERSON] une vieille question"})))
        c.execute(sa.text(
            "INSERT INTO tickets (reference, idempotency_key, conversation_id, created_at, updated_at, status, "
            "profile, origin_group, question_text, contact_email, transcript, resolved_at) VALUES "
            "('PCN-2025-000001', 'old-key', 'old-conversation', :at, :at, 'resolved', 'IND', 'FR', "
            "'une vieille question', :mail, '[]', :at)"), {"at": old, "mail": OLD_REQUESTER})
    engine.dispose()


def _poll(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


def _rows(url: str, sql: str, **params) -> list:
    engine = sa.create_engine(url, future=True, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def _cli(desk, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "db", *args], cwd=os.getcwd(), env=desk.env,
                          capture_output=True, text=True, timeout=120)


def test_privacy_at_rest_end_to_end(database_url):
    _seed_old_data(database_url)
    desk = start_desk(database_url=database_url, web=False,
                      extra_env={"PCN_RETENTION_START_DELAY_S": "1", "PCN_RETENTION_EVERY_HOURS": "24"})
    try:
        # 1. the desk runs the retention job by itself
        _poll(lambda: _rows(database_url, "SELECT actor FROM privacy_audit WHERE action = 'retention'"),
              120, "the desk's retention run")
        assert _rows(database_url, "SELECT COUNT(*) AS n FROM events WHERE sender_id = 'old-conversation'")[0]["n"] == 0
        old = _rows(database_url, "SELECT contact_email, question_text, purged_at FROM tickets "
                                  "WHERE reference = 'PCN-2025-000001'")[0]
        assert old["contact_email"] is None and old["question_text"] is None and old["purged_at"] is not None

        # 2. a conversation full of personal data
        sender = "privacy-" + uuid.uuid4().hex[:8]
        replies = [desk.send(sender, message, "fr", timeout=60) for message in SCRIPT]
        done = " ".join(r.get("text", "") for r in replies[-1])
        assert "PCN-" in done, replies[-1]
        ticket = _poll(lambda: _rows(database_url, "SELECT * FROM tickets WHERE conversation_id = :c", c=sender),
                       60, "the ticket")[0]
        assert ticket["contact_email"] == CONTACT
        _poll(lambda: _rows(database_url, "SELECT q.id FROM enquiry_questions q JOIN enquiries e "
                                          "ON e.id = q.enquiry_id WHERE e.conversation_id = :c", c=sender),
              60, "the statistics")

        needles = {**IDENTIFIERS, **HEALTH}

        # names without a cue are masked by the tracker store's background NER pass: poll
        deadline = time.monotonic() + 60
        hits = scan_database(database_url, needles, allowed=ALLOWED)
        while hits and time.monotonic() < deadline:
            time.sleep(1)
            hits = scan_database(database_url, needles, allowed=ALLOWED)
        assert hits == [], "\n".join(hits)
        stats = json.dumps(_rows(database_url, "SELECT q.text_redacted FROM enquiry_questions q JOIN enquiries e "
                                               "ON e.id = q.enquiry_id WHERE e.conversation_id = :c", c=sender),
                           ensure_ascii=False)
        assert "[HEALTH]" in stats and "[PHONE]" in stats and "[PERSON]" in stats
        assert "[IBAN]" in json.dumps(ticket["transcript"], ensure_ascii=False) or "[IBAN]" in (ticket["question_text"] or "")
        files = list(desk.workdir.glob("*.log")) + list((desk.workdir / "spool").glob("*"))
        assert scan_files(files, needles) == []
        served = json.dumps(desk.tracker(sender), ensure_ascii=False)
        assert not [name for name, value in IDENTIFIERS.items() if value in served]

        # 3. export, then erasure, of the requester (command line, as the DPO would)
        counts_before = {t: n for t, n in table_counts(database_url).items() if t in ("tickets", "enquiries")}
        exported = _cli(desk, "export", "--email", CONTACT.upper())
        assert exported.returncode == 0, exported.stderr
        export = json.loads(exported.stdout)
        assert export["tickets"][0]["reference"] == ticket["reference"]
        assert export["conversations"] and export["enquiries"][0]["questions"]
        assert "[NIR]" in exported.stdout and IDENTIFIERS["nir"] not in exported.stdout
        erased = _cli(desk, "erase", "--reference", ticket["reference"], "--yes")
        assert erased.returncode == 0, erased.stderr
        left = scan_database(database_url, {"contact": CONTACT, "conversation": sender, **HEALTH})
        assert left == [], "\n".join(left)
        assert {t: n for t, n in table_counts(database_url).items() if t in counts_before} == counts_before
        audit = _rows(database_url, "SELECT action, actor, subject FROM privacy_audit ORDER BY id")
        assert [a["action"] for a in audit] == ["retention", "export", "erasure"]
        assert audit[0]["actor"] == "retention job" and audit[2]["subject"] == ticket["reference"]
    finally:
        desk.stop()
