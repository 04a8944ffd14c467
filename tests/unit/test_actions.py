"""Every custom action, run directly with rasa-sdk trackers and a real database."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import enquiry_log
from actions.answer_text import MAX_FIRST_BUBBLE_WORDS, words
from actions.answers import ActionAcknowledgeContext, ActionAnswerExtra, ActionAnswerQuestion
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
from core.content import load_answers, load_situations


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

FRANCE = {"insured_country": "FR"}


def answer_message(messages) -> dict:
    """The answer itself: the message that carries its details and sources for the widget."""
    return next(m for m in messages if (m.get("custom") or {}).get("pcn_answer"))


# domain.yml responses that ask something (Rasa adds their buttons when it renders them).
QUESTION_RESPONSES = {"utter_offer_human", "utter_was_this_helpful", "utter_ask_profile", "utter_ask_origin_country",
                      "utter_ask_insured_country", "utter_fallback_offer_human"}


def questions_asked(messages) -> List[str]:
    """What a turn asks: every message with choices (except the answer's own buttons) or a question response."""
    asked = []
    for m in messages:
        payloads = [b["payload"] for b in m.get("buttons") or []]
        if m.get("response") in QUESTION_RESPONSES or any(p not in ("/more_details", "/show_sources") for p in payloads):
            asked.append(m.get("response") or m.get("text"))
    return asked


@pytest.mark.parametrize("code", sorted(load_answers()))
@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_answer_is_short_with_details_and_sources_on_demand(code, language):
    qt = load_answers()[code]
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker("?", qt.intent, slots={"language": language, **FRANCE}))
    answer = answer_message(messages)
    assert words(answer["text"]) <= MAX_FIRST_BUBBLE_WORDS
    assert answer["text"].startswith(qt.answer[language].short.strip()[:40])
    payloads = [b["payload"] for b in answer["buttons"]]
    assert payloads == (["/more_details"] if qt.answer[language].details else []) + ["/show_sources"]
    data = answer["custom"]["pcn_answer"]
    assert data["details"] == qt.answer[language].details.strip()
    assert ("Base légale" if language == "fr" else "Legal basis") in data["sources"] and "https://" in data["sources"]
    assert "Base légale" not in answer["text"] and "https://" not in answer["text"]
    assert len(questions_asked(messages)) <= 1, messages
    assert slots["last_answer"].startswith(f"{code}|answer|")


def test_bot_answer_asks_only_whether_it_helped(enquiry):
    tracker = make_tracker("Quels soins sont exclus de la directive ?", "q_a4_covered_care",
                           slots={"language": "fr", "enquiry_id": enquiry})
    messages, slots, _ = run(ActionAnswerQuestion(), tracker)
    assert responses_of(messages) == ["utter_ncp_informs", "utter_was_this_helpful"]
    assert slots["handoff_offered"] is False and slots["feedback_asked"] is True
    assert "profile_asked" not in slots  # the survey waits for a positive feedback
    row = enquiry_row(enquiry)
    assert [(q.question_code, q.category, q.outcome) for q in row.questions] == [("A4", "a", "answered")]


def test_the_ncp_informs_is_said_once_per_conversation():
    said = [{"event": "session_started"}, {"event": "bot", "text": "Le PCN informe, votre caisse décide.",
                                              "metadata": {"utter_action": "utter_ncp_informs"}}]
    messages, _, _ = run(ActionAnswerQuestion(), make_tracker("et la greffe ?", "q_a4_covered_care",
                                                              slots={"language": "fr"}, events=said))
    assert "utter_ncp_informs" not in responses_of(messages)
    greeted = [{"event": "bot", "text": "Bonjour !", "metadata": {"utter_action": "utter_greet"}}]
    messages, _, _ = run(ActionAnswerQuestion(), make_tracker("et la greffe ?", "q_a4_covered_care",
                                                              slots={"language": "fr"}, events=greeted))
    assert "utter_ncp_informs" not in responses_of(messages)
    # A new session says it again.
    messages, _, _ = run(ActionAnswerQuestion(), make_tracker("et la greffe ?", "q_a4_covered_care", slots={
        "language": "fr"}, events=said + [{"event": "session_started"}]))
    assert "utter_ncp_informs" in responses_of(messages)


def test_feedback_is_asked_until_given():
    given = [{"event": "action", "name": "action_record_feedback"}]
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker("et la greffe ?", "q_a4_covered_care",
                                                                  slots={"language": "fr"}, events=given))
    assert questions_asked(messages) == [] and slots["feedback_asked"] is False


def test_h_question_is_one_handoff_sentence_with_yes_no_and_is_logged_as_handoff(enquiry):
    qt = load_answers()["C4"]
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "Cela fait 8 mois que j'attends mon remboursement", qt.intent,
        slots={"language": "fr", "enquiry_id": enquiry, **FRANCE}))
    assert questions_asked(messages) == [qt.handoff["fr"]]
    offer = next(m for m in messages if m.get("text") == qt.handoff["fr"])
    assert [b["payload"] for b in offer["buttons"]] == ["/request_human", "/deny"]
    assert "utter_was_this_helpful" not in responses_of(messages)
    assert slots["handoff_offered"] is True and slots["feedback_asked"] is False
    assert enquiry_row(enquiry).questions[0].outcome == "handoff_offered"


def test_bot_h_answers_then_offers():
    qt = load_answers()["A12"]
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "Mon enfant a une maladie rare, peut-il être soigné à l'étranger ?", qt.intent, slots={"language": "en"}))
    assert answer_message(messages)["text"].startswith(qt.answer["en"].short[:30])
    assert questions_asked(messages) == [qt.handoff["en"]]
    assert slots["handoff_offered"] is True


def test_a_handoff_written_as_a_statement_still_ends_on_the_question():
    from actions.answers import handoff_message

    qt = load_answers()["A12"]
    statement = replace(qt, handoff={"fr": "Un conseiller du PCN peut regarder votre cas.", "en": "x."})
    message = handoff_message(statement, "fr")
    assert message["text"] == "Un conseiller du PCN peut regarder votre cas. Souhaitez-vous être recontacté ?"
    assert [b["payload"] for b in message["buttons"]] == ["/request_human", "/deny"]


def test_identifier_in_a_bot_question_also_offers_an_agent():
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "mon numero 1 85 05 78 006 084 36 comment faire ma demande S2", "q_b4_s2_form",
        slots={"language": "fr", "identifier_seen": True, **FRANCE}))
    assert slots["handoff_offered"] is True
    assert questions_asked(messages) == ["utter_offer_human"]
    assert "006 084" not in slots["last_question_text"]


def test_distress_read_in_the_message_brings_the_offer_instead_of_the_feedback_question():
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "Je n'en peux plus, quels soins sont exclus ?", "q_a4_covered_care", slots={"language": "fr", "distress": True}))
    assert questions_asked(messages) == ["utter_offer_human"] and slots["handoff_offered"] is True


def test_switzerland_note_says_what_changes_once():
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "Puis-je me faire rembourser une opération en Suisse ?", "q_a1_right_to_care",
        slots={"language": "fr", "treatment_country": "CH", **FRANCE}))
    shown = "\n".join(m.get("text") or "" for m in messages)
    assert "Suisse : pas de directive" in shown and "S2" in shown
    assert slots["last_answer"] == "A1|answer|treatment:CH"
    # a later question without the country does not repeat the note
    before = [{"event": "slot", "name": "last_answer", "value": slots["last_answer"]}]
    messages, _, _ = run(ActionAnswerQuestion(), make_tracker(
        "Et pour les frais de transport ?", "q_c5_travel_costs",
        slots={"language": "fr", "treatment_country": "CH", **FRANCE}, events=before))
    assert not any("Suisse : pas de directive" in (m.get("text") or "") for m in messages)
    # naming the country again brings it back
    messages, _, _ = run(ActionAnswerQuestion(), make_tracker(
        "Et les frais de transport vers la Suisse ?", "q_c5_travel_costs",
        slots={"language": "fr", "treatment_country": "CH", **FRANCE}, events=before))
    assert any("Suisse : pas de directive" in (m.get("text") or "") for m in messages)


# --- the asker's situation --------------------------------------------------------

def test_unknown_insurer_asks_one_question_then_answers_the_waiting_question(enquiry):
    qt = load_answers()["C1"]
    assert qt.insurer_dependent
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "Comment me faire rembourser des soins ?", qt.intent, slots={"language": "fr", "enquiry_id": enquiry}))
    assert responses_of(messages) == ["utter_ask_insured_country"] and len(messages) == 1
    assert slots["asked_fact"] == "insured_country" and slots["pending_question"] == "C1"
    assert enquiry_row(enquiry).questions[0].question_code == "C1"  # logged once, when asked

    # "Another EU/EEA country": the answer for someone insured elsewhere, never "your CPAM"
    reply = make_tracker('/inform{"insurance_group": "EU_EEA"}', "inform",
                         entities=[{"entity": "insurance_group", "value": "EU_EEA"}],
                         slots={"language": "fr", **slots})
    messages, slots, _ = run(ActionAcknowledgeContext(), reply)
    answer = answer_message(messages)
    assert answer["text"].startswith(qt.insured_elsewhere["fr"].short.strip()[:40])
    assert "votre caisse" not in answer["text"] and "votre CPAM" not in answer["text"]
    assert responses_of(messages)[:1] == ["utter_ncp_informs_insurer"]
    assert slots["insurance_group"] == "EU_EEA" and slots["asked_fact"] is None and slots["pending_question"] is None
    assert len(enquiry_row(enquiry).questions) == 1


@pytest.mark.parametrize("payload, entity, value, expected", [
    ('/inform{"insured_country": "FR"}', "insured_country", "FR", "answer"),
    ('/inform{"insured_country": "GB"}', "insured_country", "GB", "insured_elsewhere|insurance:GB"),
    ('/inform{"insured_country": "CH"}', "insured_country", "CH", "insured_elsewhere|insurance:CH"),
    ('/inform{"insurance_group": "THIRD"}', "insurance_group", "THIRD", "insured_elsewhere|insurance:THIRD"),
])
def test_each_button_of_the_insurer_question_gives_its_answer(payload, entity, value, expected):
    waiting = {"language": "en", "asked_fact": "insured_country", "pending_question": "C1"}
    _, slots, _ = run(ActionAcknowledgeContext(), make_tracker(payload, "inform", slots=waiting,
                                                               entities=[{"entity": entity, "value": value}]))
    assert slots["last_answer"].startswith(f"C1|{expected}")


def test_a_typed_reply_to_the_insurer_question_is_read():
    waiting = {"language": "fr", "asked_fact": "insured_country", "pending_question": "C1"}
    messages, slots, _ = run(ActionAcknowledgeContext(), make_tracker("En Belgique", "inform", slots=waiting))
    assert slots["insured_country"] == "BE" and slots["last_answer"] == "C1|insured_elsewhere|insurance:BE"


def test_a_reply_the_classifier_reads_as_something_else_still_answers_the_waiting_question():
    waiting = {"language": "fr", "asked_fact": "insured_country", "pending_question": "C1"}
    # "Belgique" read as "which countries?" (A3), or not understood at all
    _, slots, _ = run(ActionAnswerQuestion(), make_tracker("Belgique", "q_a3_which_countries", slots=waiting))
    assert slots["last_answer"] == "C1|insured_elsewhere|insurance:BE" and slots["insured_country"] == "BE"
    _, slots, _ = run(ActionAcknowledgeContext(), make_tracker("en Belgique", "nlu_fallback", slots=waiting))
    assert slots["last_answer"] == "C1|insured_elsewhere|insurance:BE"
    messages, slots, _ = run(ActionAcknowledgeContext(), make_tracker("blorf", "nlu_fallback", slots=waiting))
    assert responses_of(messages) == ["utter_ask_rephrase"] and slots["asked_fact"] is None


@pytest.mark.parametrize("reply, intent", [("I'm not insured yet", "deny"), ("no idea really", "inform")])
def test_a_reply_naming_no_insurer_still_answers_the_waiting_question_with_an_adviser(reply, intent):
    waiting = {"language": "en", "asked_fact": "insured_country", "pending_question": "C1"}
    messages, slots, _ = run(ActionAcknowledgeContext(), make_tracker(reply, intent, slots=waiting))
    assert responses_of(messages)[0] == "utter_insurer_unknown_general_rule"
    assert slots["last_answer"] == "C1|answer|" and slots["handoff_offered"] is True
    assert "utter_context_noted" not in responses_of(messages)


def test_a_new_question_instead_of_the_reply_is_answered_and_the_wait_ends():
    waiting = {"language": "fr", "asked_fact": "insured_country", "pending_question": "C1", **FRANCE}
    _, slots, _ = run(ActionAnswerQuestion(), make_tracker("Quels soins sont exclus ?", "q_a4_covered_care",
                                                           slots=waiting))
    assert slots["last_answer"] == "A4|answer|" and slots["pending_question"] is None


def test_an_adviser_or_pharmacist_is_not_asked_where_they_are_insured():
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "Comment un patient se fait-il rembourser ?", "q_c1_how_to_claim",
        slots={"language": "fr", "requester_role": "pharmacist"}))
    assert "utter_ask_insured_country" not in responses_of(messages)
    assert slots["last_answer"] == "C1|answer|"


@pytest.mark.parametrize("situation, variant", [
    ({"insured_country": "FR", "treatment_country": "DE"}, "C1|answer|"),
    ({"insured_country": "FR", "treatment_country": "GB"}, "C1|answer|treatment:GB"),
    ({"insured_country": "GB", "treatment_country": "FR"}, "C1|insured_elsewhere|insurance:GB"),
    ({"insured_country": "FR", "treatment_country": "CH"}, "C1|answer|treatment:CH"),
    ({"insured_country": "CH"}, "C1|insured_elsewhere|insurance:CH"),
    ({"insured_country": "MA"}, "C1|insured_elsewhere|insurance:MA"),
    ({"insured_country": "FR", "treatment_country": "MA"}, "C1|answer|treatment:MA"),
])
def test_the_answer_fits_the_situation(situation, variant):
    _, slots, _ = run(ActionAnswerQuestion(), make_tracker("?", "q_c1_how_to_claim",
                                                           slots={"language": "en", **situation}))
    assert slots["last_answer"] == variant


@pytest.mark.parametrize("intent, situation, variant", [
    # A UK-insured pensioner living in France: the S1 comes from the NHS, not "your CPAM" rules.
    ("q_a15_residence_s1", {"insured_country": "GB", "residence_country": "FR"}, "A15|case:insured_in_the_uk|"),
    # Living in the UK with a second home in France: not a resident, the GHIC and travel insurance.
    ("q_a15_residence_s1", {"insured_country": "GB", "residence_country": "GB"},
     "A15|case:living_in_the_uk_staying_in_france|"),
    # A French pension, living in Spain: France stays competent, S1 from the French pension fund.
    ("q_a15_residence_s1", {"insured_country": "FR", "residence_country": "ES"},
     "A15|case:french_pension_living_in_europe|"),
    ("q_a15_residence_s1", {"insured_country": "DE", "residence_country": "FR"},
     "A15|case:foreign_pension_living_in_france|"),
    # Nothing stated about residence: the general text, never a guessed case.
    ("q_a15_residence_s1", {"insured_country": "FR"}, "A15|answer|"),
    # Insured in France, care in the United States: the outside-Europe text, not the EHIC one.
    ("q_b11_unplanned_care_stay", {"insured_country": "FR", "treatment_country": "US"},
     "B11|case:care_outside_europe|"),
    ("q_b11_unplanned_care_stay", {"insured_country": "FR", "treatment_country": "ES"}, "B11|answer|"),
])
def test_a_case_of_the_question_type_is_said_for_its_situation(intent, situation, variant):
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker("?", intent, slots={"language": "en", **situation}))
    assert slots["last_answer"] == variant
    code, said = variant.split("|")[:2]
    case = next((c for c in load_answers()[code].cases if f"case:{c.id}" == said), None)
    if case:
        assert answer_message(messages)["text"] == case.answer["en"].short.strip()
        extra, _, _ = run(ActionAnswerExtra(), make_tracker("/more_details", "more_details",
                                                            slots={"language": "en", "last_answer": variant}))
        assert extra[0]["text"] == case.answer["en"].details.strip()


def test_a_traveller_asking_whether_french_cover_follows_gets_the_stay_answer_not_joining_the_system():
    """A18 (joining the French system) asked by someone insured in France going to the US: B11's text."""
    _, slots, _ = run(ActionAnswerQuestion(), make_tracker("?", "q_a18_join_french_system_puma", slots={
        "language": "en", "insured_country": "FR", "treatment_country": "US"}))
    assert slots["last_answer"] == "B11|case:care_outside_europe|" and slots["last_question_code"] == "B11"
    _, slots, _ = run(ActionAnswerQuestion(), make_tracker("?", "q_a18_join_french_system_puma", slots={
        "language": "en", "residence_country": "FR"}))
    assert slots["last_answer"].startswith("A18|answer|")


def test_a_belgian_is_told_that_the_mutualite_is_the_insurer_that_decides():
    """The Belgian statutory insurer by its own name, never taken for a French top-up insurer."""
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker("?", "q_c1_how_to_claim", slots={
        "language": "fr", "insured_country": "BE", "treatment_country": "ES"}))
    assert slots["last_answer"] == "C1|insured_elsewhere|insurance:BE"
    said = " ".join(m.get("text") or "" for m in messages)
    assert "mutualité" in said and "point de contact national belge" in said


def test_without_an_own_text_the_generic_situation_text_is_said():
    qt = next(qt for qt in load_answers().values() if qt.insurer_dependent and not qt.insured_elsewhere)
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker("?", qt.intent, slots={
        "language": "fr", "insured_country": "AT", "treatment_country": "FR"}))
    assert slots["last_answer"] == f"{qt.code}|situation:EU_EEA:care_in_france|"
    assert answer_message(messages)["text"] == load_situations()["EU_EEA"]["care_in_france"]["fr"].short.strip()


def test_more_details_and_sources_for_a_rest_client():
    slots = {"language": "en", "last_answer": "C1|answer|treatment:CH"}
    messages, _, _ = run(ActionAnswerExtra(), make_tracker("/more_details", "more_details", slots=slots))
    assert messages[0]["text"] == load_answers()["C1"].answer["en"].details.strip()
    messages, _, _ = run(ActionAnswerExtra(), make_tracker("/show_sources", "show_sources", slots=slots))
    assert messages[0]["text"].startswith("Legal basis: " + load_answers()["C1"].legal_basis["en"])
    assert all(link.url in messages[0]["text"] for link in load_answers()["C1"].links["en"])
    messages, _, _ = run(ActionAnswerExtra(), make_tracker("/show_sources", "show_sources", slots={"language": "fr"}))
    assert responses_of(messages) == ["utter_no_last_answer"]


def test_acknowledge_profile_then_country():
    messages, slots, _ = run(ActionAcknowledgeContext(), make_tracker('/inform{"profile": "IND"}', "inform",
                                                                         slots={"language": "en", "profile": "IND"}))
    assert responses_of(messages) == ["utter_ask_origin_country"]
    assert {b["payload"] for b in messages[0]["buttons"]} >= {'/inform{"country": "GB"}', "/deny"}
    messages, _, _ = run(ActionAcknowledgeContext(), make_tracker('/inform{"country": "GB"}', "inform", slots={
        "language": "en", "profile": "IND", "origin_country": "GB", "origin_asked": True}))
    assert messages[0]["text"].startswith("Insured in the United Kingdom: the NHS decides")
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
    assert enquiry_row(enquiry).feedback_helpful is True and responses_of(messages)[0] == "utter_feedback_thanks"


def test_typed_yes_or_no_after_was_this_helpful_is_feedback(enquiry):
    messages, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "Quels soins sont exclus de la directive ?", "q_a4_covered_care",
        slots={"language": "fr", "enquiry_id": enquiry}))
    assert responses_of(messages)[-1] == "utter_was_this_helpful" and slots["feedback_asked"] is True
    messages, slots, _ = run(ActionRecordFeedback(), make_tracker("oui", "affirm", slots={"enquiry_id": enquiry}))
    assert enquiry_row(enquiry).feedback_helpful is True and responses_of(messages)[0] == "utter_feedback_thanks"
    assert slots["feedback_asked"] is False
    messages, slots, _ = run(ActionRecordFeedback(), make_tracker("non", "deny", slots={"enquiry_id": enquiry}))
    assert enquiry_row(enquiry).feedback_helpful is False and slots["handoff_offered"] is True


def test_an_offer_of_an_agent_is_not_a_feedback_question(enquiry):
    _, slots, _ = run(ActionAnswerQuestion(), make_tracker(
        "Cela fait 8 mois que j'attends mon remboursement", "q_c4_reimbursement_delay",
        slots={"language": "fr", "enquiry_id": enquiry, **FRANCE}))
    assert slots["handoff_offered"] is True and slots["feedback_asked"] is False


# --- the survey: once, after a positive feedback, never after trouble ----------------

def user(intent: str) -> dict:
    return {"event": "user", "text": "…", "parse_data": {"intent": {"name": intent}}}


def test_a_positive_feedback_is_followed_by_the_survey_once():
    messages, slots, _ = run(ActionRecordFeedback(), make_tracker("/feedback_positive", "feedback_positive",
                                                                  slots={"language": "fr"}))
    assert responses_of(messages) == ["utter_feedback_thanks", "utter_ask_profile"]
    assert '/inform{"profile": "HCP"}' in [b["payload"] for b in messages[-1]["buttons"]]
    assert slots["profile_asked"] is True
    messages, _, _ = run(ActionRecordFeedback(), make_tracker("/feedback_positive", "feedback_positive",
                                                              slots={"language": "fr", "profile_asked": True}))
    assert responses_of(messages) == ["utter_feedback_thanks"]
    # a known profile: only the country is asked, unless it is known too
    messages, _, _ = run(ActionRecordFeedback(), make_tracker("/feedback_positive", "feedback_positive",
                                                              slots={"language": "fr", "profile": "IND"}))
    assert responses_of(messages) == ["utter_feedback_thanks", "utter_ask_origin_country"]
    messages, _, _ = run(ActionRecordFeedback(), make_tracker("/feedback_positive", "feedback_positive", slots={
        "language": "fr", "profile": "IND", "insured_country": "BE"}))
    assert responses_of(messages) == ["utter_feedback_thanks"]


@pytest.mark.parametrize("history", [
    [user("medical_emergency"), {"event": "bot", "metadata": {"utter_action": "utter_medical_emergency"}}],
    [user("q_a10_complaints")],
    [user("q_c8_claim_refused")],
    [{"event": "slot", "name": "handoff_offered", "value": True}],
    [user("request_human"), {"event": "active_loop", "name": "escalation_form"}],
    [user("feedback_negative")],
    [{"event": "slot", "name": "distress", "value": True}],
], ids=["emergency", "complaint", "refused claim", "hand-off offered", "escalation", "negative feedback", "distress"])
def test_no_survey_after_an_emergency_a_complaint_or_a_hand_off(history):
    messages, slots, _ = run(ActionRecordFeedback(), make_tracker(
        "/feedback_positive", "feedback_positive", slots={"language": "fr"},
        events=[{"event": "session_started"}] + history))
    assert responses_of(messages) == ["utter_feedback_thanks"] and "profile_asked" not in slots


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
