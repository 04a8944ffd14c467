"""The bilan counts exactly what happened: a scripted mix of chats, mails and phone/letter/walk-in
entries, with test, empty, garbage and spam sessions that must not count (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from streamlit.testing.v1 import AppTest

from db.repositories import desk, enquiries, intake, users
from db.repositories.bilan import compute_bilan
from db.repositories.tickets import TicketDraft, create_ticket
from mail.ingest import ingest

PW = "correct horse battery"
TODAY = dt.datetime.now(dt.timezone.utc).date()


def _chat(eid, questions, channel="web", conversation=None, **requester):
    """A chat session written the way the actions write it (db.repositories.enquiries)."""
    enquiries.start_enquiry(eid, conversation or f"conv-{eid}", channel, "fr")
    for text, code, category, outcome in questions:
        enquiries.record_question(eid, text, f"q_{(code or 'x').lower()}", 0.9, code, category, outcome)
    feedback = requester.pop("feedback", None)
    if requester:
        enquiries.update_requester(eid, **requester)
    if feedback is not None:
        enquiries.record_feedback(eid, feedback)
    enquiries.touch(eid)


def _mail(msg_id, subject, body, sender="jane@example.org", **headers) -> str:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, "pcn@cleiss.example", subject, msg_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return ingest(bytes(msg), "smtp").reference


def scripted_mix() -> dict:
    """9 requests (4 chats, 2 mails, 3 agent entries) and 7 sessions that are not requests."""
    agent = users.create_user("alice", PW, "agent", "Alice").id
    users.create_user("maud", PW, "manager", "Maud")
    # --- chats that are requests
    _chat("chat1", [("Comment me faire rembourser des soins payés en Espagne ?", "C1", "c", "answered")],
          profile="IND", origin_country="FR", treatment_country="ES", feedback=True)
    _chat("chat2", [("How do I get reimbursed for dental care I had in Spain?", None, None, "not_understood")],
          feedback=False)
    _chat("chat3", [("Je veux parler à un conseiller pour mon dossier", "A1", "a", "handoff_offered")])
    t3 = create_ticket(TicketDraft(idempotency_key="chat3", enquiry_id="chat3", conversation_id="conv-chat3",
                                   language="fr", contact_email="p@example.org", question_text="mon dossier"))
    desk.update_fields(t3.id, agent, category="d", profile="HCP", origin_country="BE", treatment_country="IT")
    _chat("chat4", [("Do I need prior authorisation for an MRI in Germany?", "D1", "d", "answered")], channel="rest",
          treatment_country="DE")
    # --- sessions that are not requests
    _chat("junk1", [("bonjour ?", None, None, "not_understood")])
    _chat("junk2", [("<script>alert(1)</script>", "B1", "b", "answered")])
    _chat("junk3", [('=HYPERLINK("https://attacker.example","x")', None, None, "not_understood")])
    _chat("empty1", [])
    _chat("empty2", [])
    _chat("bench1", [("Comment obtenir le formulaire S2 ?", "B1", "b", "answered")], conversation="bench-42")
    _chat("spam1", [("Gagnez un iPhone en cliquant ici maintenant", None, None, "not_understood")])
    spam = create_ticket(TicketDraft(idempotency_key="spam1", enquiry_id="spam1", language="fr"))
    desk.mark_not_a_request(spam.id, agent)
    # --- mails: two new requests, one reply (same thread), one auto-reply
    m1 = _mail("<m1@x>", "Formulaire S2", "Bonjour, comment obtenir le formulaire S2 pour une opération à Bruxelles ?")
    m2 = _mail("<m2@x>", "Question", "Hello, what does the directive say about prescriptions?", sender="bob@example.org")
    for ref, category, origin, treatment in ((m1, "b", "FR", "BE"), (m2, "a", "IT", "ES")):
        desk.update_fields(desk.get_ticket_by_reference(ref), agent, category=category, profile="UNK",
                           origin_country=origin, treatment_country=treatment)
    assert _mail("<m3@x>", f"Re: [{m1}]", "Merci, et pour ma fille ?") == m1
    _mail("<m4@x>", "Out of office", "Je suis absente.", sender="bob@example.org", Auto_Submitted="auto-replied")
    # --- phone, letter, walk-in
    intake.record_agent_entry(intake.AgentEntry(channel="phone", received_on=TODAY, question_code="B1", profile="SSF",
                                                origin_country="CH", treatment_country="DE"), agent)
    intake.record_agent_entry(intake.AgentEntry(channel="letter", received_on=TODAY, category="c", profile="NCP",
                                                outcome="out_of_scope", note="Question sur une retraite au Portugal"),
                              agent)
    walk_in = intake.record_agent_entry(intake.AgentEntry(channel="walk_in", received_on=TODAY, question_code="A1",
                                                          profile="IND", origin_country="MA", outcome="escalated"), agent)
    create_ticket(TicketDraft(idempotency_key="walk-in", enquiry_id=walk_in, channel="walk_in", source="agent"))
    return {"agent": agent}


def _map(rows) -> dict:
    return {r["code"]: r["count"] for r in rows if r["count"]}


def test_bilan_counts_the_scripted_mix_exactly(migrated_db):
    scripted_mix()
    b = compute_bilan(TODAY - dt.timedelta(days=1), TODAY + dt.timedelta(days=1))
    assert b["total"] == 9
    assert _map(b["excluded"]) == {"test": 1, "spam": 1, "empty": 2, "garbage": 3}
    assert b["sessions"] == 16
    assert _map(b["channel"]) == {"web": 3, "rest": 1, "email": 2, "phone": 1, "letter": 1, "walk_in": 1}
    assert _map(b["category"]) == {"a": 2, "b": 2, "c": 2, "d": 2, None: 1}
    assert _map(b["profile"]) == {"IND": 2, "HCP": 1, "SSF": 1, "NCP": 1, "UNK": 4}
    assert _map(b["origin"]) == {"FR": 2, "UK_BE_DE_ES_PL": 1, "OTHER_EU_EEA": 1, "CH": 1, "THIRD": 1, "UNKNOWN": 3}
    assert _map(b["treatment"]) == {"ES": 2, "DE": 2, "IT": 1, "BE": 1, None: 3}
    assert [r["code"] for r in b["treatment"]] == ["DE", "ES", "BE", "IT", None]  # by count, unknown last
    assert _map(b["outcome"]) == {"answered": 2, "not_understood": 1, "escalated": 4, "answered_by_agent": 1,
                                  "out_of_scope": 1}
    assert _map(b["satisfaction"]) == {"helpful": 1, "not_helpful": 1, "no_answer": 7}
    assert b["satisfaction_rate"] == 0.5 and b["escalated"] == 4
    for dim in ("category", "profile", "origin", "outcome", "channel", "treatment", "satisfaction"):
        assert sum(r["count"] for r in b[dim]) == b["total"]  # one denominator
    # garbage never reaches the management tables
    assert {r["text"] for r in b["top_unanswered"]} == {
        "how do i get reimbursed for dental care i had in spain?", "question sur une retraite au portugal"}
    assert {r["code"] for r in b["top_questions"]} >= {"C1", "A1", "D1", "B1"}  # + the mails' suggested types
    assert b["previous"]["total"] == 0 and b["tickets"]["created"] == 5


def test_bilan_page_shows_the_channel_breakdown(migrated_db, monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.delenv("PCN_DEMO", raising=False)
    scripted_mix()
    at = AppTest.from_file("dashboard/app.py", default_timeout=60).run()
    at.text_input(key="login_username").input("maud")
    at.text_input(key="login_password").input(PW)
    at.button[0].click().run()
    month = TODAY.replace(day=1)
    at.selectbox(key="bilan_from").set_value(month)
    at.selectbox(key="bilan_to").set_value(month).run()
    assert not at.exception
    assert any("mois en cours" in w.value for w in at.warning)
    assert at.metric[0].label == "Demandes" and at.metric[0].value == "9"
    assert "Par canal" in [s.value for s in at.subheader]
    tables = [d.value for d in at.dataframe]
    channel = next(df for df in tables if "Libellé" in df and "Téléphone" in set(df["Libellé"]))
    counts = dict(zip(channel["Libellé"], channel["Nombre"]))
    assert counts == {"Chat du site web": 3, "API REST": 1, "Courriel": 2, "Téléphone": 1, "Courrier": 1,
                      "Accueil physique": 1}
    assert round(sum(channel["Part (%)"]), 6) == 100
    excluded = next(df for df in tables if "Libellé" in df and "Total" in set(df["Libellé"]))
    assert dict(zip(excluded["Libellé"], excluded["Nombre"]))["Total"] == 7
    assert any("9 demandes individuelles ont été traitées (7 sessions" in m.value for m in at.markdown)
