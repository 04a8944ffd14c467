"""AppTest of every page and role of the Streamlit desk (dashboard/app.py)."""
from __future__ import annotations

import datetime as dt
import email

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


def test_agent_replies_by_email_through_smtp(desk_db, smtp_sink):
    at = login("alice")
    at.button(key="open_btn").click().run()
    reference = titles(at)[0].split()[-1]
    assert any("127.0.0.1" in i.value for i in at.info)  # where mail goes, shown before writing
    at.text_area(key="reply_body").input("Bonjour, voici la réponse.")
    at.button(key="FormSubmitter:reply-Envoyer").click().run()
    assert not at.exception
    assert any("Réponse envoyée" in s.value for s in at.success), [e.value for e in at.error]
    msg = email.message_from_bytes(smtp_sink.wait_for(1)[-1][2])
    assert reference in msg["Subject"]


def test_reply_without_smtp_says_so_before_writing_and_keeps_the_reply(desk_db, monkeypatch):
    monkeypatch.delenv("PCN_SMTP_HOST", raising=False)
    at = login("alice")
    at.button(key="open_btn").click().run()
    assert any("PCN_SMTP_HOST" in w.value and "file d'envoi" in w.value for w in at.warning)
    at.text_area(key="reply_body").input("Bonjour, voici la réponse.")
    at.button(key="FormSubmitter:reply-Envoyer").click().run()
    assert not at.exception
    kept = [e.value for e in at.error]
    assert any("gardée dans la file d'envoi" in e and "PCN_SMTP_HOST" in e for e in kept), kept
    assert any(b.key and b.key.startswith("retry_") for b in at.button)  # send again, by hand
    assert any("Bonjour, voici la réponse." in x.value for x in at.text)


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


def test_agent_records_a_phone_call_and_opens_a_ticket(desk_db):
    from sqlalchemy import select

    from db.models import Enquiry, EnquiryQuestion
    from db.session import session_scope

    at = login("alice")
    at.switch_page("app_pages/intake.py").run()
    assert "Enregistrer une demande (téléphone, courrier, accueil)" in titles(at)
    assert any("numéro de sécurité sociale" in w.value for w in at.warning)  # the form warns before the note
    # a call: the defaults (phone, today, French) plus four choices and a note
    at.selectbox(key="in_type").set_value("B2")
    at.selectbox(key="in_profile").set_value("IND")
    at.selectbox(key="in_origin").set_value("BE")
    at.selectbox(key="in_treatment").set_value("FR")
    at.radio(key="in_outcome").set_value("escalated")
    at.text_area(key="in_note").input("Demande le S2, rappeler M. Dupont au 06 12 34 56 78")
    at.text_input(key="in_email").input("caller@example.org")
    at.button(key="FormSubmitter:intake-Enregistrer la demande").click().run()
    assert not at.exception
    done = [s.value for s in at.success]
    assert any("ticket PCN-" in s for s in done), [e.value for e in at.error]
    reference = done[0].split("ticket ")[1].split()[0]
    with session_scope() as s:
        enquiry = s.scalar(select(Enquiry).where(Enquiry.conversation_id.like("phone-%")))  # not a demo one
        note = s.scalar(select(EnquiryQuestion.text_redacted).where(EnquiryQuestion.enquiry_id == enquiry.id))
        assert (enquiry.bilan_status, enquiry.outcome, enquiry.category, enquiry.profile) == ("request", "escalated",
                                                                                               "b", "IND")
        assert (enquiry.origin_country, enquiry.treatment_country) == ("BE", "FR")
    assert "06 12" not in note and "[PHONE]" in note  # redacted anyway
    at.button(key="open_created").click().run()
    assert titles(at)[0] == f"Ticket {reference}"


def test_a_ticket_has_its_own_url(desk_db):
    from db.repositories import desk

    reference = desk.list_tickets(desk.QueueFilter(statuses=["new"]))[0]["reference"]
    at = login("alice")
    at.query_params["ticket"] = reference
    at.run()
    assert titles(at)[0] == f"Ticket {reference}"
    assert at.query_params["ticket"] == [reference] or at.query_params["ticket"] == reference
    at.button(key="back").click().run()
    assert "File des tickets" in titles(at) and "ticket" not in at.query_params


def test_canned_reply_fills_the_form_and_managers_edit_templates(desk_db):
    from db.repositories import desk, templates

    at = login("maud")
    at.switch_page("app_pages/templates.py").run()
    assert "Modèles de réponse (FR/EN)" in titles(at)
    at.selectbox(key="tpl_code").set_value("GEN").run()
    body_key = "tpl_body_GEN_fr"
    at.text_area(key=body_key).input("Bonjour,\n\nRéponse type du PCN pour {reference}.\n")
    at.button(key="FormSubmitter:tpl_GEN_fr-Enregistrer").click().run()
    assert any("Enregistré" in s.value for s in at.success)
    assert templates.get("GEN", "fr")["edited"]

    ticket = desk.list_tickets(desk.QueueFilter(statuses=["new"], languages=["fr"]))[0]
    agent = login("alice")
    agent.query_params["ticket"] = ticket["reference"]
    agent.run()
    agent.selectbox(key="reply_template").set_value("GEN").run()
    assert agent.text_area(key="reply_body").value == f"Bonjour,\n\nRéponse type du PCN pour {ticket['reference']}.\n"


def test_resolving_without_a_delivered_reply_asks_for_confirmation(desk_db):
    from db.repositories import desk

    ticket = desk.list_tickets(desk.QueueFilter(statuses=["new"]))[0]
    at = login("alice")
    at.query_params["ticket"] = ticket["reference"]
    at.run()
    at.selectbox(key="fld_category").set_value("b")
    at.selectbox(key="fld_profile").set_value("IND")
    at.selectbox(key="fld_country").set_value("FR")
    at.button(key="FormSubmitter:fields-Enregistrer").click().run()
    at.selectbox(key="status_to").set_value("resolved").run()
    at.button(key="status_btn").click().run()
    assert any("Aucune réponse n'a été remise" in e.value for e in at.error)
    assert desk.get_ticket(ticket["id"], None, record_view=False)["status"] != "resolved"
    at.checkbox(key="confirm_undelivered").check()
    at.button(key="status_btn").click().run()
    assert desk.get_ticket(ticket["id"], None, record_view=False)["status"] == "resolved"


def test_mail_ticket_shows_its_thread_and_offers_attachments_as_downloads_only(desk_db, monkeypatch):
    from email.message import EmailMessage

    from mail import classify
    from mail.ingest import ingest

    monkeypatch.setattr(classify, "suggest", lambda text, model=None: classify.Suggestion())  # no model needed here
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = "jane@example.org", "pcn@x", "Facture", "<f1@x>"
    msg.set_content("Bonjour, voici ma facture de soins en Italie. ![x](https://attacker.example/p.png)")
    msg.add_attachment(b"%PDF-1.4\n% facture\n", maintype="application", subtype="pdf", filename="facture.pdf")
    msg.add_attachment(b"MZ\x90", maintype="application", subtype="octet-stream", filename="virus.exe")
    reference = ingest(bytes(msg), "smtp").reference
    at = login("alice")
    at.query_params["ticket"] = reference
    at.run()
    assert not at.exception
    downloads = at.get("download_button")
    assert len(downloads) == 1 and "facture.pdf" in downloads[0].proto.label
    assert any("virus.exe (type)" in w.value for w in at.warning)  # listed, not stored
    assert any("attacker.example" in x.value for x in at.text)  # the mail, as plain text
    assert not any("attacker.example" in m.value for m in at.markdown)
    assert not at.get("imgs") and not at.get("image")  # nothing the requester sent is rendered


# -- French UI: no Streamlit default English the app can set (issue 12 §5, browser review §4.3-4.4) -------
STREAMLIT_DEFAULTS = ("Choose an option", "Choose options", "Select a date", "Press Enter", "No results")
HIDE_HINTS = "InputInstructions']{display:none}"  # Streamlit's "Press Enter to submit form" hint, hidden in French


def _selects(at) -> list:
    return list(at.get("selectbox")) + list(at.get("multiselect"))


def _hides_english_hints(at) -> bool:
    return any(HIDE_HINTS in h.proto.body for h in at.get("html"))


def _french_selects(at, where: str) -> None:
    assert _selects(at), where
    for widget in _selects(at):
        placeholder = widget.proto.placeholder
        assert placeholder and placeholder not in STREAMLIT_DEFAULTS, (where, widget.proto.label, placeholder)
        assert not any(d in placeholder for d in STREAMLIT_DEFAULTS), (where, widget.proto.label, placeholder)


def test_french_console_sets_french_placeholders_and_hides_english_hints(desk_db):
    assert _hides_english_hints(_app().run())  # the login form too
    at = login("alice")
    _french_selects(at, "queue")
    assert _hides_english_hints(at)
    at.button(key="open_btn").click().run()
    _french_selects(at, "ticket")
    at.switch_page("app_pages/intake.py").run()
    _french_selects(at, "intake")
    assert at.selectbox(key="in_date").proto.help  # the date has its own French help
    assert "caractères au plus" in at.text_area(key="in_note").proto.help  # the hidden counter, said in French
    at = login("root")
    _french_selects(at, "admin")
    assert _hides_english_hints(at)
    at.switch_page("app_pages/bilan.py").run()
    _french_selects(at, "bilan")
    assert all(s.proto.help for s in at.get("selectbox"))  # both months of the period explain themselves
    at.switch_page("app_pages/templates.py").run()
    _french_selects(at, "templates")


def test_english_console_keeps_english_words(desk_db):
    at = login("alice")
    at.radio(key="lang_choice").set_value("en").run()
    assert "Ticket queue" in titles(at), titles(at)
    assert {w.proto.placeholder for w in _selects(at)} == {"Choose…"}
    assert not _hides_english_hints(at)  # Streamlit's own hints are English: right for the English UI
    assert any("Signed in" in c.value for c in at.sidebar.caption)


def _ticket_with_buttons() -> str:
    from db.repositories.tickets import TicketDraft, create_ticket

    at = dt.datetime.now(dt.timezone.utc).isoformat()
    ticket = create_ticket(TicketDraft(
        idempotency_key="buttons-1", language="fr", channel="web", question_text="Soins dentaires en Espagne",
        contact_email="jane@example.org", consent_at=dt.datetime.now(dt.timezone.utc), transcript=[
            {"sender": "user", "text": "Soins dentaires en Espagne", "at": at},
            {"sender": "user", "text": '/inform{"insured_country": "FR", "country": "FR"}', "at": at},
            {"sender": "user", "text": "/request_human", "at": at}]))
    return ticket.reference


def _audit_rows(at) -> list[dict]:
    frames = [d.value for d in at.dataframe if "Détail" in d.value.columns]
    assert frames, [list(d.value.columns) for d in at.dataframe]
    return frames[-1].to_dict("records")


def test_ticket_audit_and_transcript_read_in_french(desk_db):
    import re

    reference = _ticket_with_buttons()
    at = login("alice")
    at.query_params["ticket"] = reference
    at.run()
    shown = [x.value for x in at.text]
    assert "[bouton : demande à parler à un agent]" in shown
    assert "[bouton : précision (Pays d'assurance : FR, Pays : FR)]" in shown
    assert not any("request_human" in x or "/inform" in x for x in shown)
    stamps = [c.value for c in at.caption if "UTC" in c.value]
    assert stamps and not any(re.search(r"\d{4}-\d\d-\d\dT|\.\d{6}", c) for c in stamps), stamps  # no ISO T, no µs
    # the agent works the ticket: every kind of audit row appears
    at.button(key="claim").click().run()
    at.selectbox(key="fld_category").set_value("b")
    at.selectbox(key="fld_profile").set_value("IND")
    at.button(key="FormSubmitter:fields-Enregistrer").click().run()
    at.selectbox(key="status_to").set_value("resolved").run()
    at.button(key="status_btn").click().run()
    # resolving with a field missing says so in French, with the field's label
    errors = [e.value for e in at.error]
    assert any("À renseigner avant de résoudre : Pays d'origine" in e for e in errors), errors
    assert not any("required" in e or "origin_country" in e for e in errors)
    rows = _audit_rows(at)
    actions = [r["Action"] for r in rows]
    assert {"Création", "Prise en charge", "Classement corrigé"} <= set(actions), actions
    details = " | ".join(r["Détail"] for r in rows)
    assert "Provenance : assistant (chat)" in details
    assert "Profil : Inconnu → Particuliers" in details or "Profil : — → Particuliers" in details, details
    for raw in ("{", "}", "=", "'from'", "source", "enquiry_id", "None", "_"):
        assert raw not in details, (raw, details)
    assert all(r["Par"] for r in rows) and "None" not in [r["Par"] for r in rows]


def test_admin_page_in_french(desk_db):
    at = login("root")
    at.text_input(key="new_username").input("zoe")
    at.text_input(key="new_password").input("short")
    at.button(key="FormSubmitter:add_user-Créer").click().run()
    errors = [e.value for e in at.error]
    assert any("Mot de passe trop court" in e for e in errors), errors
    assert not any("password must" in e for e in errors)
    users_table = at.dataframe[0].value
    assert set(users_table["Rôle"]) <= {"agent", "responsable", "administrateur"}
    assert "responsable" in set(users_table["Rôle"])
    at.button(key="privacy_run_retention").click().run()
    log = [d.value for d in at.dataframe if "Détail" in d.value.columns][-1]
    assert list(log.columns) == ["Date", "Action", "Par", "Personne concernée", "Détail"]
    assert "Conservation appliquée" in set(log["Action"])
    assert not any("{" in d or "_" in d for d in log["Détail"]), list(log["Détail"])
