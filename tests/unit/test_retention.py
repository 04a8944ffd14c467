"""db/retention.py and db/subjects.py on SQLite and PostgreSQL: retention periods,
export and erasure of one requester, their audit, and the command line."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from db.models import Enquiry, EnquiryQuestion, PrivacyAudit, Ticket, TicketAudit, TicketMessage
from db.retention import EVENTS, RetentionPolicy, run_retention
from db.session import session_scope
from tests.security.pii import scan_database

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=timezone.utc)
POLICY = RetentionPolicy(conversation_days=30, contact_days=90, ticket_days=365, question_text_days=365)
REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def _events_table(url: str) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    engine = sa.create_engine(url, future=True, poolclass=sa.pool.NullPool)
    SQLTrackerStore.Base.metadata.create_all(engine)
    engine.dispose()


def _add_conversation(session, sender: str, at: datetime, text: str) -> None:
    for k, (kind, data) in enumerate((("user", {"event": "user", "text": text}),
                                      ("bot", {"event": "bot", "text": "Bonjour"}))):
        stamp = at.timestamp() + k
        session.execute(sa.insert(EVENTS).values(sender_id=sender, type_name=kind, timestamp=stamp,
                                                 data=json.dumps({**data, "timestamp": stamp})))


def _ticket(key: str, email: str, conversation: str, enquiry_id: str, created: datetime, *,
            resolved_days_ago=None, touched: datetime = None) -> str:
    from db.repositories.tickets import TicketDraft, create_ticket

    ticket = create_ticket(TicketDraft(
        idempotency_key=key, conversation_id=conversation, enquiry_id=enquiry_id, language="fr", category="b",
        question_code="B3", profile="IND", origin_country="BE", question_text=f"Question [PERSON] {key}",
        contact_email=email, consent_at=created, created_at=created,
        transcript=[{"sender": "user", "text": f"Question [PERSON] {key}", "at": created.isoformat()}]))
    with session_scope() as s:
        row = s.get(Ticket, ticket.id)
        s.add(TicketMessage(ticket_id=row.id, kind="reply", author_id=_agent(s), subject=f"[{row.reference}] Réponse",
                            body=f"Bonjour, voici la réponse à {email}", email_status="failed", created_at=created))
        s.add(TicketAudit(ticket_id=row.id, at=created, user_id=None, action="replied",
                          detail={"email_status": "failed", "error": f"SMTPRecipientsRefused: {email} refused"}))
        if resolved_days_ago is not None:
            row.status, row.resolved_at = "resolved", NOW - timedelta(days=resolved_days_ago)
        row.updated_at = touched or (row.resolved_at if resolved_days_ago is not None else created)
        return row.reference


def _agent(s) -> int:
    from db.models import DeskUser

    user = s.scalar(select(DeskUser).where(DeskUser.username == "agent"))
    if user is None:
        user = DeskUser(username="agent", display_name="Agent", role="agent")
        s.add(user)
        s.flush()
    return user.id


def _enquiry(enquiry_id: str, conversation: str, started: datetime, text: str) -> None:
    with session_scope() as s:
        s.add(Enquiry(id=enquiry_id, conversation_id=conversation, started_at=started, channel="web", language="fr"))
        s.flush()
        s.add(EnquiryQuestion(enquiry_id=enquiry_id, asked_at=started, text_redacted=text, intent="q_b3",
                              question_code="B3", category="b", outcome="answered"))


@pytest.fixture
def desk_data(migrated_db):
    """Four requesters: one 400 days old (resolved), one resolved 100 days ago, one recent,
    one unresolved and untouched for 400 days."""
    _events_table(migrated_db)
    old, recent = NOW - timedelta(days=400), NOW - timedelta(days=5)
    _enquiry("e-old", "conv-old", old, "question ancienne sur le [HEALTH]")
    _enquiry("e-mid", "conv-mid", NOW - timedelta(days=120), "question de 120 jours")
    _enquiry("e-new", "conv-new", recent, "question récente")
    _enquiry("e-stale", "conv-stale", old, "question jamais résolue")
    with session_scope() as s:
        _add_conversation(s, "conv-old", old, "[PERSON] ancien")
        _add_conversation(s, "conv-mid", NOW - timedelta(days=120), "[PERSON] milieu")
        _add_conversation(s, "conv-new", recent, "[PERSON] récent")
    refs = {
        "old": _ticket("k-old", "old.requester@example.org", "conv-old", "e-old", old, resolved_days_ago=390),
        "mid": _ticket("k-mid", "Mid.Requester@Example.org", "conv-mid", "e-mid", NOW - timedelta(days=120),
                       resolved_days_ago=100),
        "mid2": _ticket("k-mid2", "mid.requester@example.org", "conv-mid2", None, NOW - timedelta(days=60)),
        "new": _ticket("k-new", "new.requester@example.org", "conv-new", "e-new", recent, resolved_days_ago=2),
        "stale": _ticket("k-stale", "stale.requester@example.org", "conv-stale", "e-stale", old, touched=old),
    }
    return migrated_db, refs


def _ticket_row(reference: str) -> Ticket:
    with session_scope() as s:
        return s.scalar(select(Ticket).where(Ticket.reference == reference))


def _senders(url: str) -> set:
    engine = sa.create_engine(url, future=True, poolclass=sa.pool.NullPool)
    with engine.connect() as c:
        senders = set(c.execute(select(EVENTS.c.sender_id)).scalars())
    engine.dispose()
    return senders


def test_retention_clears_what_is_due_and_nothing_else(desk_data):
    url, refs = desk_data
    dry = run_retention(NOW, POLICY, dry_run=True)
    assert dry["tickets_purged"] == sorted([refs["old"], refs["stale"]])
    assert _ticket_row(refs["old"]).contact_email == "old.requester@example.org"   # the dry run changed nothing

    counts = run_retention(NOW, POLICY)
    assert counts["conversation_events_deleted"] == 4          # conv-old and conv-mid, 2 events each
    assert _senders(url) == {"conv-new"}
    assert counts["tickets_purged"] == sorted([refs["old"], refs["stale"]])
    assert counts["contact_emails_deleted"] == 1               # "mid": resolved 100 days ago
    for key in ("old", "stale"):
        row = _ticket_row(refs[key])
        assert row.question_text is None and row.transcript == [] and row.contact_email is None
        assert row.conversation_id is None and row.purged_at is not None
        assert row.category == "b" and row.profile == "IND" and row.origin_country == "BE"   # the bilan's codes stay
    mid = _ticket_row(refs["mid"])
    assert mid.contact_email is None and mid.question_text == "Question [PERSON] k-mid" and mid.purged_at is None
    new = _ticket_row(refs["new"])
    assert new.contact_email == "new.requester@example.org" and new.transcript
    with session_scope() as s:
        texts = dict(s.execute(select(EnquiryQuestion.enquiry_id, EnquiryQuestion.text_redacted)).all())
        links = dict(s.execute(select(Enquiry.id, Enquiry.conversation_id)).all())
        codes = set(s.scalars(select(EnquiryQuestion.question_code)))
        bodies = {m.ticket_id: m.body for m in s.scalars(select(TicketMessage))}
        audit = s.scalars(select(PrivacyAudit)).all()
        actions = [a.action for a in s.scalars(select(TicketAudit).where(TicketAudit.ticket_id == _ticket_row(refs["old"]).id))]
    assert texts["e-old"] is None and texts["e-stale"] is None and texts["e-new"] == "question récente"
    assert texts["e-mid"] == "question de 120 jours" and codes == {"B3"}
    assert links["e-old"] == "" and links["e-mid"] == "" and links["e-new"] == "conv-new"
    assert bodies[_ticket_row(refs["old"]).id] == "" and "new.requester" in bodies[_ticket_row(refs["new"]).id]
    assert "purged" in actions
    assert [a.action for a in audit] == ["retention"] and audit[0].detail["policy"]["contact_days"] == 90
    # nothing of the old or stale requesters is left anywhere, and a second run changes nothing
    assert scan_database(url, {"old": "old.requester@example.org", "stale": "stale.requester@example.org"}) == []
    again = run_retention(NOW, POLICY)
    assert again["tickets_purged"] == [] and again["contact_emails_deleted"] == 0
    assert again["conversation_events_deleted"] == 0 and again["question_texts_cleared"] == 0


def test_retention_policy_comes_from_the_settings(monkeypatch):
    assert RetentionPolicy.from_settings() == RetentionPolicy(30, 90, 365, 365)
    monkeypatch.setenv("PCN_RETENTION_CONTACT_DAYS", "10")
    assert RetentionPolicy.from_settings().contact_days == 10
    monkeypatch.setenv("PCN_RETENTION_CONTACT_DAYS", "-1")
    with pytest.raises(ValueError):
        RetentionPolicy.from_settings()


# ------------------------------------------------------------------ one requester
def test_find_by_address_or_reference(desk_data):
    from db import subjects

    _, refs = desk_data
    by_mail = subjects.find_requester(email=" MID.requester@example.org ")
    assert by_mail.references == sorted([refs["mid"], refs["mid2"]])
    by_reference = subjects.find_requester(reference=refs["mid2"].lower())
    assert by_reference.references == by_mail.references and by_reference.subject == refs["mid2"]
    assert by_mail.conversation_ids == ["conv-mid", "conv-mid2"] and by_mail.enquiry_ids == ["e-mid"]
    assert not subjects.find_requester(email="nobody@example.org").found
    with pytest.raises(subjects.SubjectError):
        subjects.find_requester(email="a@b.fr", reference="PCN-2026-000001")
    with pytest.raises(subjects.SubjectError):
        subjects.find_requester(email="not an address")


def test_export_gives_everything_and_is_audited(desk_data):
    from db import subjects

    _, refs = desk_data
    data = subjects.export_requester(email="mid.requester@example.org", actor="console:root")
    assert [t["reference"] for t in data["tickets"]] == sorted([refs["mid"], refs["mid2"]])
    assert data["tickets"][0]["contact_email"].lower() == "mid.requester@example.org"
    assert data["tickets"][0]["messages"][0]["body"].startswith("Bonjour, voici la réponse")
    assert data["enquiries"][0]["questions"][0]["text"] == "question de 120 jours"
    assert data["conversations"][0]["conversation_id"] == "conv-mid"
    assert data["conversations"][0]["messages"][0]["text"] == "[PERSON] milieu"
    json.dumps(data)   # JSON-ready
    with session_scope() as s:
        audit = s.scalars(select(PrivacyAudit)).one()
    assert audit.action == "export" and audit.actor == "console:root" and audit.subject == "m…@example.org"
    assert "mid.requester" not in json.dumps(audit.detail)


def test_erasure_leaves_nothing_of_the_requester_and_keeps_the_counts(desk_data, spool_dir):
    from db import subjects
    from db.repositories.tickets import TicketDraft
    from db.spool import pending_drafts, spool_ticket

    url, refs = desk_data
    spool_ticket(TicketDraft(idempotency_key="spooled-mid", contact_email="mid.requester@example.org"))
    spool_ticket(TicketDraft(idempotency_key="spooled-other", contact_email="someone.else@example.org"))
    with session_scope() as s:
        tickets_before = s.scalar(select(sa.func.count()).select_from(Ticket))
    result = subjects.erase_requester(reference=refs["mid"], actor="cli:tester")
    assert result["tickets"] == sorted([refs["mid"], refs["mid2"]])
    assert result["conversation_events"] == 2 and result["spooled_drafts"] == 1
    assert [d.idempotency_key for d in pending_drafts()] == ["spooled-other"]
    hits = scan_database(url, {"address": "mid.requester@example.org", "conversation": "conv-mid",
                               "question": "question de 120 jours", "key": "k-mid"})
    assert hits == []
    with session_scope() as s:
        assert s.scalar(select(sa.func.count()).select_from(Ticket)) == tickets_before   # the bilan still counts them
        row = s.scalar(select(Ticket).where(Ticket.reference == refs["mid"]))
        assert row.category == "b" and row.origin_group and row.purged_at is not None
        assert "erased" in [a.action for a in s.scalars(select(TicketAudit).where(TicketAudit.ticket_id == row.id))]
        audit = s.scalars(select(PrivacyAudit)).one()
    assert audit.action == "erasure" and audit.subject == refs["mid"] and audit.detail["conversation_events"] == 2
    # the other requesters are untouched
    assert _ticket_row(refs["new"]).contact_email == "new.requester@example.org"


def _cli(*args, url: str, spool) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "PCN_DATABASE_URL": url, "PCN_SPOOL_DIR": str(spool)}
    return subprocess.run([sys.executable, "-m", "db", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_command_line(desk_data, spool_dir, tmp_path):
    url, refs = desk_data
    out = tmp_path / "export.json"
    done = _cli("export", "--email", "new.requester@example.org", "--output", str(out), url=url, spool=spool_dir)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["tickets"][0]["reference"] == refs["new"]
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    refused = _cli("erase", "--email", "new.requester@example.org", url=url, spool=spool_dir)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert _ticket_row(refs["new"]).contact_email == "new.requester@example.org"
    erased = _cli("erase", "--reference", refs["new"], "--yes", url=url, spool=spool_dir)
    assert erased.returncode == 0 and refs["new"] in erased.stdout, erased.stderr
    assert _ticket_row(refs["new"]).contact_email is None
    unknown = _cli("export", "--email", "nobody@example.org", url=url, spool=spool_dir)
    assert unknown.returncode == 1 and "no ticket" in unknown.stderr
    retention = _cli("retention", "--dry-run", url=url, spool=spool_dir)
    assert retention.returncode == 0 and "would clear" in retention.stdout
    with session_scope() as s:
        actors = {(a.action, a.actor.split(":")[0]) for a in s.scalars(select(PrivacyAudit))}
    assert actors == {("export", "cli"), ("erasure", "cli")}   # a dry run leaves no audit row


def test_database_errors_do_not_log_the_values(sqlite_url):
    from db.session import new_engine

    engine = new_engine(sqlite_url)
    with engine.connect() as connection:
        connection.execute(sa.text("CREATE TABLE t (email TEXT UNIQUE)"))
        connection.execute(sa.text("INSERT INTO t VALUES (:e)"), {"e": "secret.person@example.org"})
        with pytest.raises(sa.exc.IntegrityError) as error:
            connection.execute(sa.text("INSERT INTO t VALUES (:e)"), {"e": "secret.person@example.org"})
    engine.dispose()
    assert "secret.person" not in str(error.value)
