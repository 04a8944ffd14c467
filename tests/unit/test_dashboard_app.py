"""AppTest of every page and role of the Streamlit desk (dashboard/app.py)."""
from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from db.repositories import users

APP = "dashboard/app.py"
PW = "correct horse battery"


@pytest.fixture
def desk_db(tmp_path, monkeypatch):
    from argon2 import PasswordHasher

    from db import migrate
    from db.demo import fill
    from db.session import dispose_engine

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("PCN_DATABASE_URL", url)
    monkeypatch.delenv("PCN_DEMO", raising=False)
    users.create_user("alice", PW, "agent", "Alice Agent")
    users.create_user("maud", PW, "manager", "Maud Manager")
    users.create_user("root", PW, "admin", "Root Admin")
    fill(120, 7, url=url, today=dt.date.today())
    yield url
    dispose_engine(url)


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def login(username: str, password: str = PW) -> AppTest:
    at = _app().run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def titles(at) -> list[str]:
    return [t.value for t in at.title]


def test_database_unreachable_shows_a_generic_message(monkeypatch):
    monkeypatch.setenv("PCN_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    at = _app().run()
    assert not at.exception
    assert any("momentanément indisponible" in e.value for e in at.error)
    assert not any("127.0.0.1:1" in e.value or "postgresql" in e.value for e in at.error)  # nothing for a visitor
    assert not at.text_input  # no login form


def test_wrong_password_is_refused(desk_db):
    at = login("alice", "not the password")
    assert any("incorrect" in e.value for e in at.error)
    assert at.text_input(key="login_username")


def test_agent_console_queue_ticket_and_no_admin(desk_db):
    at = login("alice")
    assert "File des tickets" in titles(at)
    assert [m.label for m in at.metric] == ["Nouveau", "En cours", "En attente du demandeur", "Résolu"]
    # the agent cannot reach the admin page, nor the bilan
    at.switch_page("app_pages/admin.py").run()
    assert "Comptes du desk" not in titles(at) and not at.exception
    at.switch_page("app_pages/bilan.py").run()
    assert "Bilan d'activité" not in titles(at)
    # open, claim, classify, note
    at.switch_page("app_pages/tickets.py").run()
    at.button(key="open_btn").click().run()
    title = titles(at)[0]
    assert title.startswith("Ticket PCN-")
    assert at.text_area(key="reply_body") is not None  # an agent can reply
    if any(b.key == "claim" for b in at.button):  # demo tickets may already be assigned to alice
        at.button(key="claim").click().run()
    at.selectbox(key="fld_category").set_value("b")
    at.selectbox(key="fld_profile").set_value("HCP")
    at.selectbox(key="fld_country").set_value("PL")
    at.button(key="FormSubmitter:fields-Enregistrer").click().run()
    assert not at.exception
    assert any("Enregistré" in s.value for s in at.success)
    at.text_area(key="note_body").input("Appeler la CPAM")
    at.button(key="FormSubmitter:note-Ajouter la note").click().run()
    assert any("Appeler la CPAM" in x.value for x in at.text)


def test_agent_replies_by_email_through_smtp(desk_db, monkeypatch):
    from tests.unit.test_dashboard_smtp import Capture, _free_port
    from aiosmtpd.controller import Controller
    import email
    import time

    handler, port = Capture(), _free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    monkeypatch.setenv("PCN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PCN_SMTP_PORT", str(port))
    try:
        at = login("alice")
        at.button(key="open_btn").click().run()
        reference = titles(at)[0].split()[-1]
        at.text_area(key="reply_body").input("Bonjour, voici la réponse.")
        at.button(key="FormSubmitter:reply-Envoyer").click().run()
        assert not at.exception
        assert any("Réponse envoyée" in s.value for s in at.success), [e.value for e in at.error]
        for _ in range(40):
            if handler.messages:
                break
            time.sleep(0.05)
        msg = email.message_from_bytes(handler.messages[0][2])
        assert reference in msg["Subject"]
    finally:
        ctl.stop()


def test_manager_reads_bilan_and_tickets_but_cannot_reply(desk_db):
    at = login("maud")
    assert "Bilan d'activité" in titles(at)
    labels = [m.label for m in at.metric]
    assert labels[:3] == ["Demandes", "Répondues par l'assistant", "Transmises à un agent"]
    assert any("demandes individuelles ont été traitées" in m.value for m in at.markdown)
    assert any("individual enquiries were handled" in m.value for m in at.markdown)
    assert len(at.get("download_button")) == 3
    at.switch_page("app_pages/tickets.py").run()
    assert "File des tickets" in titles(at)
    assert any("Lecture seule" in i.value for i in at.info)
    at.button(key="open_btn").click().run()
    assert titles(at)[0].startswith("Ticket PCN-")
    assert not any(ta.key == "reply_body" for ta in at.text_area)  # no reply form
    assert not any(b.key == "claim" for b in at.button)
    at.switch_page("app_pages/admin.py").run()
    assert "Comptes du desk" not in titles(at)


def test_admin_manages_users_and_language_switch(desk_db):
    at = login("root")
    assert "Comptes du desk" in titles(at)
    at.text_input(key="new_username").input("zoe")
    at.text_input(key="new_password").input("another long password")
    at.selectbox(key="new_role").set_value("agent")
    at.button(key="FormSubmitter:add_user-Créer").click().run()
    assert any("Compte créé" in s.value for s in at.success)
    assert users.authenticate("zoe", "another long password").role == "agent"
    at.radio(key="lang_choice").set_value("en").run()
    assert "Desk accounts" in titles(at)
    at.switch_page("app_pages/bilan.py").run()
    assert "Activity report" in titles(at)


def test_demo_accounts_have_random_passwords_shown_once(desk_db, monkeypatch, capsys):
    from dashboard.users import main as users_cli

    monkeypatch.setenv("PCN_DEMO", "1")
    assert users_cli(["demo"]) == 0
    printed = capsys.readouterr().out
    password = next(line.split()[1] for line in printed.splitlines() if line.strip().startswith("demo-agent "))
    assert password != "demo-agent-pcn" and len(password) >= 12
    assert users_cli(["demo"]) == 0 and password not in capsys.readouterr().out  # shown once
    at = login("demo-agent", password)
    assert "File des tickets" in titles(at)
    at = login("demo-agent", "demo-agent-pcn")                                  # the old published password
    assert "File des tickets" not in titles(at)
    assert not any("demo-admin" in i.value for i in _app().run().info)  # the login page names no account
