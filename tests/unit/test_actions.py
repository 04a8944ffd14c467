"""Every custom action, run directly with rasa-sdk trackers and a real database."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import enquiry_log
from actions.answers import ActionAcknowledgeContext, ActionAnswerQuestion, compose_answer
from actions.context import ActionExtractContext
from actions.escalation import (
    ActionAskEscalationQuestion,
    ActionCancelEscalation,
    ActionCreateTicket,
    ValidateEscalationForm,
    transcript,
    valid_email,
)
from actions.fallback import ActionDefaultAskAffirmation, ActionDefaultFallback, ActionOutOfScope
from actions.feedback import ActionRecordFeedback
from actions.session import ActionSessionStart
from core.content import load_answers


def make_tracker(
    text: str = "",
    intent: Optional[str] = None,
    slots: Optional[Dict[str, Any]] = None,
    entities: Optional[List[dict]] = None,
    ranking: Optional[List[dict]] = None,
    metadata: Optional[dict] = None,
    events: Optional[List[dict]] = None,
    sender: str = "unit-test",
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.93},
        "entities": entities or [],
        "intent_ranking": ranking or [],
        "metadata": metadata or {},
    }
    return Tracker(sender, slots or {}, latest, events or [], False, None, {}, None)


def run(action, tracker: Tracker, domain: Optional[dict] = None):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain or {}))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}, events


def responses_of(messages) -> List[str]:
    return [m.get("response") for m in messages if m.get("response")]


@pytest.fixture
def enquiry(migrated_db):
    """An enquiry row, as action_session_start would have opened it."""
    _, slots, _ = run(ActionSessionStart(), make_tracker(slots={"session_started_metadata": {"language": "en", "channel": "web"}}))
    assert enquiry_log.drain(120)
    return slots["enquiry_id"]


def enquiry_row(enquiry_id: str):
    from db.repositories.enquiries import get_enquiry

    assert enquiry_log.drain(120)  # the first redaction loads spaCy
    return get_enquiry(enquiry_id)


# --- session and context -------------------------------------------------------

def test_session_start_takes_the_page_language_and_opens_an_enquiry(enquiry):
    row = enquiry_row(enquiry)
    assert row.channel == "web" and row.language == "en" and row.outcome == "abandoned"


@pytest.mark.parametrize(
    "text, hint, expected",
    [
        ("Bonjour, comment se faire rembourser des soins en Espagne ?", "en", "fr"),
        ("How do I get reimbursed for care in Spain?", "fr", "en"),
        ("remboursement soins espagne", None, "fr"),
    ],
)
def test_language_follows_the_message_not_the_page(text, hint, expected):
    _, slots, _ = run(ActionExtractContext(), make_tracker(text, "q_c1_how_to_claim", metadata={"language": hint}))
    assert slots["language"] == expected


def test_short_message_keeps_the_previous_language():
    _, slots, _ = run(ActionExtractContext(), make_tracker("ok", "affirm", slots={"language": "en"}))
    assert slots["language"] == "en"


def test_explicit_switch_of_language():
    _, slots, _ = run(ActionExtractContext(), make_tracker("can we speak english please", "switch_language", slots={"language": "fr"}))
    assert slots["language"] == "en"
    _, slots, _ = run(ActionExtractContext(), make_tracker('/switch_language{"language": "fr"}', "switch_language",
                                                            entities=[{"entity": "language", "value": "fr"}], slots={"language": "en"}))
    assert slots["language"] == "fr"


def test_other_language_is_detected_and_answered_by_its_own_action():
    # The notice itself comes from action_other_language (tests/unit/test_understanding.py).
    messages, slots, _ = run(ActionExtractContext(), make_tracker(
        "Ich bin in Deutschland versichert und möchte mich in Frankreich operieren lassen", "other_language"))
    assert slots["detected_language"] == "de" and slots["language"] in ("fr", "en")


def test_countries_and_profile_from_free_text():
    _, slots, _ = run(ActionExtractContext(), make_tracker(
        "Je suis pharmacien belge, un patient veut se faire opérer en Allemagne", "q_d1_treatment_needs_authorisation"))
    assert slots["profile"] == "HCP"
    assert slots["origin_country"] == "BE"
    assert slots["treatment_country"] == "DE"


def test_profile_and_country_buttons():
    _, slots, _ = run(ActionExtractContext(), make_tracker('/inform{"profile": "SSA"}', "inform", entities=[{"entity": "profile", "value": "SSA"}]))
    assert slots["profile"] == "SSA"
    _, slots, _ = run(ActionExtractContext(), make_tracker('/inform{"country": "PL"}', "inform", entities=[{"entity": "country", "value": "PL"}]))
    assert slots["origin_country"] == "PL"


def test_identifier_triggers_a_privacy_reminder_in_the_users_language():
    messages, slots, _ = run(ActionExtractContext(), make_tracker(
        "My phone is +44 7700 900123, how do I claim for care in France?", "q_c1_how_to_claim"))
    assert slots["identifier_seen"] is True
    assert any("social security number" in (m.get("text") or "") for m in messages)
    assert not any("7700" in (m.get("text") or "") for m in messages)


def test_email_asked_by_the_form_is_not_a_privacy_slip():
    messages, slots, _ = run(ActionExtractContext(), make_tracker(
        "marie@example.org", "inform", slots={"requested_slot": "contact_email", "language": "fr"}))
    assert slots["identifier_seen"] is False and not messages


# --- answers ---------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(load_answers()))
@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_answer_names_its_legal_basis_and_links(code, language):
    qt = load_answers()[code]
    text = compose_answer(qt, language)
    assert ("Base légale" if language == "fr" else "Legal basis") in text
    assert "https://" in text


def test_bot_answer_asks_feedback_then_profile_once(enquiry):
    tracker = make_tracker("Quels soins sont exclus de la directive ?", "q_a4_covered_care",
                           slots={"language": "fr", "enquiry_id": enquiry})
    messages, slots, _ = run(ActionAnswerQuestion(), tracker)
    assert "Base légale" in messages[0]["text"]
    assert responses_of(messages) == ["utter_was_this_helpful", "utter_ask_profile"]
    assert slots["handoff_offered"] is False and slots["profile_asked"] is True
    assert slots["feedback_asked"] is False  # the profile question came last: a "yes" would answer it
    profile_buttons = [b["payload"] for b in messages[-1]["buttons"]]
    assert '/inform{"profile": "HCP"}' in profile_buttons
    # asked once only
    messages, _, _ = run(ActionAnswerQuestion(), make_tracker("et la greffe ?", "q_a4_covered_care",
                                                              slots={"language": "fr", "profile_asked": True}))
    assert "utter_ask_profile" not in responses_of(messages)
    row = enquiry_row(enquiry)
    assert [(q.question_code, q.category, q.outcome) for q in row.questions] == [("A4", "a", "answered")]


def test_h_question_offers_an_agent_and_is_logged_as_handoff(enquiry):
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "Cela fait 8 mois que j'attends mon remboursement", "q_c4_reimbursement_delay",
        slots={"language": "fr", "enquiry_id": enquiry, "profile_asked": True}))
    assert "utter_offer_human" in responses_of(messages)
    assert slots["handoff_offered"] is True
    assert enquiry_row(enquiry).questions[0].outcome == "handoff_offered"


def test_bot_h_answers_then_offers():
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "Mon enfant a une maladie rare, peut-il être soigné à l'étranger ?", "q_a12_rare_diseases",
        slots={"language": "en", "profile_asked": True}))
    assert "Legal basis" in messages[0]["text"]
    assert responses_of(messages) == ["utter_offer_human"]
    assert slots["handoff_offered"] is True


def test_identifier_in_a_bot_question_also_offers_an_agent():
    _, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "mon numero 1 85 05 78 006 084 36 comment faire ma demande S2", "q_b4_s2_form",
        slots={"language": "fr", "identifier_seen": True, "profile_asked": True}))
    assert slots["handoff_offered"] is True
    assert "006 084" not in slots["last_question_text"]


def test_switzerland_note_says_what_changes():
    messages, _, _ = run(ActionAnswerQuestion(), make_tracker(
        "Puis-je me faire rembourser une opération en Suisse ?", "q_a1_right_to_care",
        slots={"language": "fr", "treatment_country": "CH", "profile_asked": True}))
    note = messages[1]["text"]
    assert note.startswith("Suisse") and "directive" in note.lower()
    # a later question without the country does not repeat the note
    messages, _, _ = run(ActionAnswerQuestion(), make_tracker(
        "Et pour les frais de transport ?", "q_c5_travel_costs",
        slots={"language": "fr", "treatment_country": "CH", "profile_asked": True}))
    assert not any((m.get("text") or "").startswith("Suisse") for m in messages)


def test_known_profile_asks_the_origin_country_instead():
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "Qu'est-ce que le formulaire S2 ?", "q_b4_s2_form", slots={"language": "fr", "profile": "IND"}))
    assert "utter_ask_origin_country" in responses_of(messages)
    assert slots["origin_asked"] is True


def test_acknowledge_profile_then_country():
    messages, slots, _ = run(ActionAcknowledgeContext(), make_tracker('/inform{"profile": "IND"}', "inform",
                                                                         slots={"language": "en", "profile": "IND"}))
    assert responses_of(messages) == ["utter_ask_origin_country"]
    assert {b["payload"] for b in messages[0]["buttons"]} >= {'/inform{"country": "GB"}', "/deny"}
    messages, _, _ = run(ActionAcknowledgeContext(), make_tracker('/inform{"country": "GB"}', "inform", slots={
        "language": "en", "profile": "IND", "origin_country": "GB", "origin_asked": True}))
    assert messages[0]["text"].startswith("United Kingdom")
    assert responses_of(messages) == ["utter_context_noted"]


# --- fallback, out of scope, feedback ---------------------------------------------

def test_affirmation_offers_readable_topics_in_the_users_language(enquiry):
    ranking = [{"name": "nlu_fallback"}, {"name": "q_c1_how_to_claim"}, {"name": "greet"}, {"name": "q_b4_s2_form"}]
    messages, _, _ = run(ActionDefaultAskAffirmation(), make_tracker(
        "euh papier rembourser", "nlu_fallback", ranking=ranking, slots={"language": "en", "enquiry_id": enquiry}))
    buttons = messages[0]["buttons"]
    titles = [b["title"] for b in buttons]
    assert titles[:2] == [load_answers()["C1"].title["en"], load_answers()["B4"].title["en"]]
    assert buttons[-2] == {"title": "Something else", "payload": "/out_of_scope"}
    assert buttons[-1]["payload"] == "/request_human"  # every fallback offers an adviser
    row = enquiry_row(enquiry)
    assert row.questions[0].outcome == "not_understood" and row.fallback_turns == 1


def test_final_fallback_offers_an_agent():
    messages, slots, _ = run(ActionDefaultFallback(), make_tracker("xyz", "nlu_fallback", slots={"language": "fr"}))
    assert responses_of(messages) == ["utter_fallback_offer_human"] and slots["handoff_offered"] is True


def test_final_fallback_is_said_once_per_message_then_the_assistant_listens():
    events = [{"event": "user", "text": "oui"}, {"event": "action", "name": "action_record_feedback"},
              {"event": "action", "name": "action_default_fallback"}]
    messages, _, returned = run(ActionDefaultFallback(), make_tracker("oui", "affirm", slots={"language": "fr"},
                                                                      events=events))
    assert not messages and returned == [{"event": "followup", "timestamp": None, "name": "action_listen"}]
    # A new message starts afresh.
    messages, _, _ = run(ActionDefaultFallback(), make_tracker("xyz", "nlu_fallback", slots={"language": "fr"},
                                                               events=events + [{"event": "user", "text": "xyz"}]))
    assert responses_of(messages) == ["utter_fallback_offer_human"]


def test_out_of_scope_is_logged(enquiry):
    messages, _, _ = run(ActionOutOfScope(), make_tracker("la météo demain", "out_of_scope", slots={"enquiry_id": enquiry}))
    assert responses_of(messages) == ["utter_out_of_scope"]
    row = enquiry_row(enquiry)
    assert row.outcome == "out_of_scope" and row.questions[0].text_redacted == "la météo demain"


def test_logged_question_keeps_no_identifier_nor_health_term(enquiry):
    run(ActionOutOfScope(), make_tracker("Je m'appelle Jeanne Martin, j'ai un cancer du sein, aide pour la CAF ?",
                                         "out_of_scope", slots={"enquiry_id": enquiry}))
    text = enquiry_row(enquiry).questions[0].text_redacted
    assert text == "Je m'appelle [PERSON], j'ai un [HEALTH], aide pour la CAF ?"


def test_feedback(enquiry):
    run(ActionRecordFeedback(), make_tracker("/feedback_negative", "feedback_negative", slots={"enquiry_id": enquiry}))
    assert enquiry_row(enquiry).feedback_helpful is False
    messages, slots, _ = run(ActionRecordFeedback(), make_tracker("/feedback_positive", "feedback_positive", slots={"enquiry_id": enquiry}))
    assert enquiry_row(enquiry).feedback_helpful is True and responses_of(messages) == ["utter_feedback_thanks"]


def test_typed_yes_or_no_after_was_this_helpful_is_feedback(enquiry):
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "Quels soins sont exclus de la directive ?", "q_a4_covered_care",
        slots={"language": "fr", "enquiry_id": enquiry, "profile_asked": True}))
    assert responses_of(messages)[-1] == "utter_was_this_helpful" and slots["feedback_asked"] is True
    messages, slots, _ = run(ActionRecordFeedback(), make_tracker("oui", "affirm", slots={"enquiry_id": enquiry}))
    assert enquiry_row(enquiry).feedback_helpful is True and responses_of(messages) == ["utter_feedback_thanks"]
    assert slots["feedback_asked"] is False
    messages, slots, _ = run(ActionRecordFeedback(), make_tracker("non", "deny", slots={"enquiry_id": enquiry}))
    assert enquiry_row(enquiry).feedback_helpful is False and slots["handoff_offered"] is True


def test_an_offer_of_an_agent_is_not_a_feedback_question(enquiry):
    _, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "Cela fait 8 mois que j'attends mon remboursement", "q_c4_reimbursement_delay",
        slots={"language": "fr", "enquiry_id": enquiry, "profile_asked": True}))
    assert slots["handoff_offered"] is True and slots["feedback_asked"] is False


# --- escalation ---------------------------------------------------------------------

def test_question_is_shown_back_redacted():
    messages, _, _ = run(ActionAskEscalationQuestion(), make_tracker(slots={
        "last_question_text": "Je m'appelle Jean Dupont, ma demande S2 est refusée", "language": "fr"}))
    assert messages[0]["response"] == "utter_ask_escalation_question_confirm"
    assert "Dupont" not in messages[0]["question"] and "S2" in messages[0]["question"]


def test_form_takes_the_confirmed_or_the_typed_question():
    form = ValidateEscalationForm()
    confirmed = make_tracker("/affirm", "affirm", slots={"requested_slot": "escalation_question", "last_question_text": "Comment contester un refus de S2 ?"})
    assert asyncio.run(form.extract_escalation_question(CollectingDispatcher(), confirmed, {})) == {"escalation_question": "Comment contester un refus de S2 ?"}
    typed = make_tracker("mon IBAN FR76 3000 6000 0112 3456 7890 189, remboursement refusé", "inform", slots={"requested_slot": "escalation_question"})
    value = asyncio.run(form.extract_escalation_question(CollectingDispatcher(), typed, {}))["escalation_question"]
    assert "FR76" not in value and "remboursement refusé" in value
    dispatcher = CollectingDispatcher()
    assert form.validate_escalation_question("court", dispatcher, typed, {}) == {"escalation_question": None}
    assert dispatcher.messages[0]["response"] == "utter_escalation_question_too_short"


def test_consent_is_asked_before_the_address():
    import yaml

    from core.settings import REPO_ROOT

    domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert domain["forms"]["escalation_form"]["required_slots"] == [
        "escalation_question", "contact_consent", "contact_email"]


def test_declining_consent_ends_the_form_without_asking_an_address():
    form = ValidateEscalationForm()
    domain_slots = ["escalation_question", "contact_consent", "contact_email"]
    declined = make_tracker("/deny", "deny", slots={"contact_consent": False})
    assert asyncio.run(form.required_slots(domain_slots, CollectingDispatcher(), declined, {})) == [
        "escalation_question", "contact_consent"]
    agreed = make_tracker("/affirm", "affirm", slots={"contact_consent": True})
    assert asyncio.run(form.required_slots(domain_slots, CollectingDispatcher(), agreed, {})) == domain_slots


def test_a_redacted_address_read_back_from_the_store_is_never_accepted():
    dispatcher = CollectingDispatcher()
    assert ValidateEscalationForm().validate_contact_email("[EMAIL]", dispatcher, make_tracker(), {}) == {
        "contact_email": None}


@pytest.mark.parametrize("email, ok", [
    ("marie.curie@example.org", True), ("a+tag@sub.example.fr", True), ("  x@y.eu ", True),
    ("pas une adresse", False), ("a@b", False), ("a@@b.fr", False), ("<script>@x.fr", False), ("a b@c.fr", False),
])
def test_email_validation(email, ok):
    dispatcher = CollectingDispatcher()
    result = ValidateEscalationForm().validate_contact_email(email, dispatcher, make_tracker(), {})
    assert (result["contact_email"] is not None) is ok
    assert valid_email(email.strip()) is ok
    if not ok:
        assert dispatcher.messages[0]["response"] == "utter_invalid_email"


def escalation_tracker(enquiry_id: Optional[str], consent: bool = True) -> Tracker:
    events = [
        {"event": "session_started", "timestamp": 1.0},
        {"event": "user", "text": "Bonjour, je suis Jean Dupont, 06 12 34 56 78", "timestamp": 2.0},
        {"event": "bot", "text": "Bonjour !", "timestamp": 3.0},
        {"event": "user", "text": "/request_human", "timestamp": 4.0},
        {"event": "user", "text": "marie@example.org", "timestamp": 5.0},
    ]
    return make_tracker("/affirm", "affirm", events=events, slots={
        "enquiry_id": enquiry_id, "language": "fr", "escalation_question": "Comment contester le refus de ma demande S2 ?",
        "contact_email": "marie@example.org", "contact_consent": consent, "last_question_code": "B3",
        "profile": "IND", "origin_country": "FR"})


def test_transcript_is_redacted_and_starts_at_the_session():
    lines = transcript(escalation_tracker("x"))
    assert [line["sender"] for line in lines] == ["user", "bot", "user", "user"]
    flat = " ".join(line["text"] for line in lines)
    assert "06 12" not in flat and "marie@example.org" not in flat and "Dupont" not in flat


def test_ticket_is_created_once_with_reference(enquiry):
    from db.models import Ticket
    from db.session import session_scope

    messages, slots, _ = run(ActionCreateTicket(), escalation_tracker(enquiry))
    reference = slots["ticket_reference"]
    assert messages[0]["response"] == "utter_ticket_created" and messages[0]["reference"] == reference
    assert slots["contact_email"] is None  # the form is reset: the e-mail stays on the ticket only
    run(ActionCreateTicket(), escalation_tracker(enquiry))  # a retried submission
    with session_scope() as session:
        tickets = session.scalars(select(Ticket)).all()
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket.reference == reference and ticket.category == "b" and ticket.question_code == "B3"
    assert ticket.contact_email == "marie@example.org" and ticket.profile == "IND" and ticket.origin_group == "FR"
    assert enquiry_row(enquiry).outcome == "escalated"


def test_no_consent_creates_nothing(migrated_db):
    from db.models import Ticket
    from db.session import session_scope

    messages, _, _ = run(ActionCreateTicket(), escalation_tracker(None, consent=False))
    assert messages[0]["response"] == "utter_no_consent"
    with session_scope() as session:
        assert session.scalars(select(Ticket)).all() == []


def test_database_down_spools_the_ticket(monkeypatch, tmp_path):
    from db.spool import flush_spool

    monkeypatch.setenv("PCN_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("PCN_SPOOL_DIR", str(tmp_path))
    messages, _, _ = run(ActionCreateTicket(), escalation_tracker(None))
    assert messages[0]["response"] == "utter_ticket_spooled"
    assert any(tmp_path.iterdir())
    stored, remaining = flush_spool()
    assert stored == 0 and remaining == 1  # still down: nothing is dropped


def test_cancel():
    messages, slots, _ = run(ActionCancelEscalation(), make_tracker("/cancel", "cancel", slots={"language": "en"}))
    assert responses_of(messages) == ["utter_escalation_cancelled"]
    assert slots["escalation_question"] is None and slots["requested_slot"] is None
