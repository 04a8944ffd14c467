"""What the assistant asks after an answer: one thing at most.

After an answer the person reads; a second prompt competes with the answer
and a "yes" typed afterwards becomes ambiguous. So each turn ends with at most
one question: the offer of an adviser (BOT_H / H answers, personal cases), OR
"Was this answer helpful?", OR — once per conversation, after a positive
feedback — the anonymous profile / country survey. The survey never follows a
complaint, distress, an emergency or a hand-off: asking "who are you?" then
would be tone-deaf.

The conversation history (Rasa events of the current session) tells what was
already said, so no extra slot has to be kept in step.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from rasa_sdk import Tracker

from actions import responses
from core.content import load_vocabularies, localized
from core.countries import country

# Complaints and refusals (A10 harm or complaint, B3 refused authorisation, C8 refused claim).
COMPLAINT_CODES = {"A10", "B3", "C8"}
# Intents after which the survey is out of place. ("distress" and "complaint" are not
# intents today; listed so that a future intent of that name is covered at once.)
NO_SURVEY_INTENTS = {"medical_emergency", "request_human", "feedback_negative", "distress", "complaint"}
NO_SURVEY_RESPONSES = {"utter_medical_emergency", "utter_offer_human", "utter_fallback_offer_human",
                       "utter_feedback_sorry"}
# Buttons of the country question: the most frequent origins in the 2015 bilan.
ORIGIN_BUTTONS = ("FR", "BE", "DE", "ES", "GB", "PL", "IT", "LU")  # one source: a UI choice, not a group


def session_events(tracker: Tracker) -> List[Dict[str, Any]]:
    """The events of the current conversation session."""
    events = list(tracker.events or [])
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "session_started":
            return events[index + 1:]
    return events


def _intent(event: Dict[str, Any]) -> Optional[str]:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def said(tracker: Tracker, response_names: Iterable[str]) -> bool:
    """Whether the assistant already sent one of these domain.yml responses in this session."""
    names = set(response_names)
    return any(e.get("event") == "bot" and (e.get("metadata") or {}).get("utter_action") in names
               for e in session_events(tracker))


def feedback_given(tracker: Tracker) -> bool:
    return any(e.get("event") == "action" and e.get("name") == "action_record_feedback"
               for e in session_events(tracker))


def survey_allowed(tracker: Tracker) -> bool:
    """The profile survey: once per session, never after a complaint, distress, emergency or hand-off."""
    if tracker.get_slot("profile_asked") or tracker.get_slot("distress"):
        return False
    for event in session_events(tracker):
        kind = event.get("event")
        if kind == "user":
            intent = _intent(event) or ""
            if intent in NO_SURVEY_INTENTS:
                return False
            code = intent.split("_")[1].upper() if intent.startswith("q_") and intent.count("_") >= 2 else None
            if code in COMPLAINT_CODES:
                return False
        elif kind == "slot" and event.get("name") in ("handoff_offered", "distress") and event.get("value"):
            return False
        elif kind == "slot" and event.get("name") == "last_question_code" and event.get("value") in COMPLAINT_CODES:
            return False
        elif kind == "bot" and (event.get("metadata") or {}).get("utter_action") in NO_SURVEY_RESPONSES:
            return False
        elif kind == "active_loop" and event.get("name") == "escalation_form":
            return False
    return True


def profile_question(language: str) -> Dict[str, Any]:
    profiles = load_vocabularies()["profiles"]
    buttons = [
        {"title": localized(labels, language), "payload": f'/inform{{"profile": "{code}"}}'}
        for code, labels in profiles.items()
        if code != "UNK"
    ]
    buttons.append({"title": responses.text("utter_skip", language), "payload": "/deny"})
    return {"response": "utter_ask_profile", "buttons": buttons}


def origin_question(language: str) -> Dict[str, Any]:
    buttons = [
        {"title": localized(country(code)["names"], language), "payload": f'/inform{{"country": "{code}"}}'}
        for code in ORIGIN_BUTTONS
    ]
    buttons.append({"title": responses.text("utter_skip", language), "payload": "/deny"})
    return {"response": "utter_ask_origin_country", "buttons": buttons}


def origin_known(tracker: Tracker) -> bool:
    return bool(tracker.get_slot("origin_country") or tracker.get_slot("insured_country")
                or tracker.get_slot("insurance_group"))
