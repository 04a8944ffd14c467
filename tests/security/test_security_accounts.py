"""Console accounts: throttling with a growing delay, lockout, a limit per client, the audit,
and sessions re-checked on every page (a disabled account, a changed role, the login cookie).

Real database (SQLite file) and the real Streamlit app (AppTest). Each probe failed on
the code before issue 11 (main 0f8abbf).
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from db.repositories import users

PW = "correct horse battery"


@pytest.fixture
def accounts(tmp_path, monkeypatch):
    from argon2 import PasswordHasher

    from db import migrate
    from db.session import dispose_engine

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("PCN_DATABASE_URL", url)
    monkeypatch.delenv("PCN_DEMO", raising=False)
    monkeypatch.setenv("PCN_LOGIN_MAX_FAILURES", "3")
    users.create_user("alice", PW, "agent", "Alice Agent")
    users.create_user("root", PW, "admin", "Root Admin")
    yield url
    dispose_engine(url)


def attempt(username: str, password: str, at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file("dashboard/app.py", default_timeout=60).run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def audit(username: str) -> list[str]:
    from db.repositories.logins import events

    return [e.event for e in reversed(events(username))]


def wait_for_next_attempt(username: str, timeout: float = 10) -> None:
    """Polls the throttle (1 s, then 2 s…): the growing delay is the thing under test."""
    import time

    from db.repositories.logins import throttle

    deadline = time.monotonic() + timeout
    while not throttle(username, "127.0.0.1").allowed:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_an_attempt_right_after_a_failure_waits_even_with_the_right_password(accounts):
    attempt("alice", "wrong password!")
    at = attempt("alice", PW)
    assert "File des tickets" not in titles(at)
    assert "Réessayez dans" in errors(at)
    assert audit("alice") == ["failed", "throttled"]


def test_the_account_is_locked_after_n_failures_and_everything_is_audited(accounts):
    for _ in range(3):
        wait_for_next_attempt("alice")
        attempt("alice", "wrong password!")
    at = attempt("alice", PW)
    assert "File des tickets" not in titles(at) and "bloqué" in errors(at)
    assert audit("alice") == ["failed", "failed", "failed", "locked"]
    assert users.get_by_username("alice").active  # locked for a while, not disabled


def test_one_client_failing_on_many_accounts_is_refused(accounts, monkeypatch):
    monkeypatch.setenv("PCN_LOGIN_MAX_FAILURES_PER_CLIENT", "3")
    for name in ("bob", "carol", "dave"):
        attempt(name, "guess guess guess")
    at = attempt("root", PW)
    assert "Comptes du desk" not in titles(at) and "depuis votre poste" in errors(at)


def test_a_disabled_account_loses_its_open_session_at_the_next_click(accounts):
    at = attempt("root", PW)
    assert "Comptes du desk" in titles(at)
    users.set_active("root", False)
    at.run()
    assert "Comptes du desk" not in titles(at)
    assert at.text_input(key="login_username") is not None          # back to the login form
    assert any("session a pris fin" in w.value for w in at.warning)


def test_a_role_change_applies_to_an_open_session(accounts):
    at = attempt("root", PW)
    assert "Comptes du desk" in titles(at)
    users.set_role("root", "agent")
    at.run()
    assert "Comptes du desk" not in titles(at) and "File des tickets" in titles(at)


def test_the_login_cookie_is_signed_and_dies_with_its_session(accounts):
    from dashboard import auth
    from db.repositories import logins

    user = users.get_by_username("alice")
    sid = logins.open_session(user.id)
    token = auth.sign(sid)
    assert auth.unsign(token) == sid and logins.session_user(sid).username == "alice"
    assert auth.unsign(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]) is None  # forged
    assert auth.unsign(sid) is None                                                           # unsigned id
    logins.revoke(sid)                         # logout
    assert logins.session_user(sid) is None
    sid = logins.open_session(user.id)
    users.set_active("alice", False)           # deactivation
    assert logins.session_user(sid) is None
    users.set_active("alice", True)
    sid = logins.open_session(user.id)
    users.set_password("alice", "a brand new password")  # new password: every session ends
    assert logins.session_user(sid) is None
