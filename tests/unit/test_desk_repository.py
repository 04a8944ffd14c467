"""Agent console repository (db/repositories/desk.py) on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest

from db.repositories import desk, users
from db.repositories.tickets import TicketDraft, create_ticket


@pytest.fixture(autouse=True)
def fast_hash(monkeypatch):
    """argon2 with test-sized costs (the real defaults take ~0.6 s per hash here)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def people(migrated_db):
    return {
        "agent": users.create_user("alice", "correct horse battery", "agent", "Alice"),
        "agent2": users.create_user("bob", "correct horse battery", "agent", "Bob"),
        "manager": users.create_user("maud", "correct horse battery", "manager", "Maud"),
        "admin": users.create_user("root", "correct horse battery", "admin", "Root"),
    }


def _ticket(key="k1", **kw):
    base = dict(idempotency_key=key, conversation_id="c-" + key, language="fr", category="c",
                question_code="C1", profile="UNK", origin_country=None,
                question_text="Comment me faire rembourser des soins payés en Espagne ?",
                contact_email="requester@example.org",
                transcript=[{"sender": "user", "text": "Bonjour, soins en Espagne", "at": "2026-01-01T10:00:00+00:00"}])
    base.update(kw)
    return create_ticket(TicketDraft(**base))


def test_lifecycle_claim_fields_resolve_reopen(people):
    a = people["agent"].id
    t = _ticket()
    assert desk.status_counts()["new"] == 1
    desk.claim(t.id, a)
    got = desk.get_ticket(t.id, a)
    assert got["status"] == "open" and got["assignee_id"] == a
    # resolving needs category, a known profile and a country
    with pytest.raises(desk.DeskError, match="profile.*origin_country"):
        desk.set_status(t.id, "resolved", a)
    with pytest.raises(desk.DeskError):
        desk.update_fields(t.id, a, profile="XXX")
    changes = desk.update_fields(t.id, a, profile="IND", origin_country="be")
    assert changes["origin_group"] == ["UNKNOWN", "UK_BE_DE_ES_PL"]
    desk.set_status(t.id, "waiting", a)
    # no reply ever reached the requester: resolving asks for a confirmation
    with pytest.raises(desk.DeskError) as refused:
        desk.set_status(t.id, "resolved", a)
    assert refused.value.code == "undelivered"
    desk.set_status(t.id, "resolved", a, confirm_undelivered=True)
    got = desk.get_ticket(t.id, a)
    assert got["status"] == "resolved" and got["resolved_at"] is not None
    with pytest.raises(desk.DeskError, match="not allowed"):
        desk.set_status(t.id, "waiting", a)
    desk.set_status(t.id, "open", a)  # what the console's "reopen" button does
    got = desk.get_ticket(t.id, a)
    assert got["status"] == "open" and got["resolved_at"] is None
    actions = [x["action"] for x in got["audit"]]
    assert actions[0] == "created"
    for action in ("viewed", "claimed", "status", "field"):
        assert action in actions
    assert any(x["action"] == "status" and x["detail"] == {"from": "resolved", "to": "open"} for x in got["audit"])


def test_assign_notes_and_roles(people):
    a, b, m = people["agent"].id, people["agent2"].id, people["manager"].id
    t = _ticket()
    desk.assign(t.id, b, a)
    assert desk.get_ticket(t.id, None, record_view=False)["assignee_id"] == b
    with pytest.raises(desk.DeskError):
        desk.assign(t.id, m, a)  # a manager is not an agent
    desk.add_note(t.id, a, "Voir la CPAM de Lyon")
    got = desk.get_ticket(t.id, a)
    assert [x["kind"] for x in got["messages"]] == ["note"]
    assert got["first_response_at"] is None  # a note is not a response
    for role in ("manager", "admin"):
        uid = people[role].id
        with pytest.raises(desk.DeskPermissionError):
            desk.claim(t.id, uid)
        with pytest.raises(desk.DeskPermissionError):
            desk.add_note(t.id, uid, "x")
        with pytest.raises(desk.DeskPermissionError):
            desk.send_reply(t.id, uid, "s", "body", lambda mail: None)
    # reading is audited for everybody
    desk.get_ticket(t.id, m)
    audit = desk.get_ticket(t.id, None, record_view=False)["audit"]
    assert any(x["action"] == "viewed" and x["user_id"] == m for x in audit)


def test_reply_stamps_first_response_once(people):
    a = people["agent"].id
    t = _ticket()
    sent = []
    res = desk.send_reply(t.id, a, "Votre demande", "Bonjour", sent.append)
    assert res["ok"] and sent[0].to == "requester@example.org" and t.reference in sent[0].subject
    got = desk.get_ticket(t.id, a)
    first = got["first_response_at"]
    assert first is not None and got["status"] == "waiting" and got["assignee_id"] == a

    def boom(mail):
        raise ConnectionRefusedError("smtp down")

    res = desk.send_reply(t.id, a, "", "Second", boom)
    assert not res["ok"] and "smtp down" in res["error"]
    got = desk.get_ticket(t.id, a)
    assert got["first_response_at"] == first
    # the failed reply is kept in the outbox for a retry, and resolving then asks for a confirmation
    assert [m["email_status"] for m in got["messages"]] == ["sent", "pending"]
    assert got["messages"][1]["outbox_id"] == res["outbox_id"] and "smtp down" in got["messages"][1]["last_error"]
    desk.update_fields(t.id, a, profile="IND", origin_country="FR")
    with pytest.raises(desk.DeskError, match="confirm"):
        desk.set_status(t.id, "resolved", a)
    assert desk.retry_reply(res["outbox_id"], a, sent.append)["ok"]
    assert sent[-1].body == "Second" and sent[-1].message_id.startswith("<")
    assert [m["email_status"] for m in desk.get_ticket(t.id, a)["messages"]] == ["sent", "sent"]
    desk.set_status(t.id, "resolved", a)  # delivered: no confirmation needed


def test_filters_search_and_counts(people):
    a = people["agent"].id
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=5)
    t1 = _ticket("k1", category="a", language="en", origin_country="DE", created_at=old,
                 contact_email="jane.doe@example.org")
    t2 = _ticket("k2", category="c", language="fr", origin_country="FR", question_text="Formulaire S3125 introuvable")
    t3 = _ticket("k3", category=None, language="fr")
    desk.claim(t2.id, a)
    F = desk.QueueFilter
    assert {r["id"] for r in desk.list_tickets(F(categories=["a"]))} == {t1.id}
    assert {r["id"] for r in desk.list_tickets(F(categories=[""]))} == {t3.id}
    assert {r["id"] for r in desk.list_tickets(F(languages=["fr"]))} == {t2.id, t3.id}
    assert {r["id"] for r in desk.list_tickets(F(origin_groups=["UK_BE_DE_ES_PL"]))} == {t1.id}
    assert {r["id"] for r in desk.list_tickets(F(min_age_hours=72))} == {t1.id}
    assert {r["id"] for r in desk.list_tickets(F(assignee=a))} == {t2.id}
    assert {r["id"] for r in desk.list_tickets(F(assignee="none"))} == {t1.id, t3.id}
    assert {r["id"] for r in desk.list_tickets(F(text="JANE.DOE"))} == {t1.id}
    assert {r["id"] for r in desk.list_tickets(F(text="s3125"))} == {t2.id}
    assert {r["id"] for r in desk.list_tickets(F(text=t3.reference))} == {t3.id}
    assert {r["id"] for r in desk.list_tickets(F(text="soins en espagne"))} == {t1.id, t2.id, t3.id}  # transcript
    assert desk.status_counts() == {"new": 2, "open": 1, "waiting": 0, "resolved": 0}
    assert desk.status_counts(F(languages=["en"])) == {"new": 1, "open": 0, "waiting": 0, "resolved": 0}
    assert desk.get_ticket_by_reference(t2.reference) == t2.id


def test_users_hashing_and_cli(migrated_db, capsys):
    from dashboard import users as cli

    assert cli.main(["add", "carla", "--role", "manager", "--password", "a long enough password"]) == 0
    assert users.authenticate("carla", "a long enough password").role == "manager"
    assert users.authenticate("carla", "wrong") is None
    assert users.authenticate("nobody", "a long enough password") is None
    from sqlalchemy import select

    from db.models import DeskUser
    from db.session import session_scope

    with session_scope() as s:
        h = s.scalar(select(DeskUser.password_hash).where(DeskUser.username == "carla"))
    assert h.startswith("$argon2") and "a long enough" not in h
    assert cli.main(["add", "carla", "--password", "another long password"]) == 1  # duplicate
    assert cli.main(["add", "shorty", "--password", "short"]) == 1
    assert cli.main(["set-password", "carla", "--password", "brand new password!"]) == 0
    assert users.authenticate("carla", "brand new password!") is not None
    assert cli.main(["disable", "carla"]) == 0
    assert users.authenticate("carla", "brand new password!") is None
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "carla" in out and "manager" in out and "disabled" in out
    assert users.ensure_demo_users() and not users.ensure_demo_users()  # idempotent
