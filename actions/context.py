"""Reads the context out of every user message, before any reply is chosen.

Rasa runs the global slot-validation action (`action_validate_slot_mappings`)
after each user message, so the language, the asker's situation (contract C2:
one slot per field of core/situation.Situation), the bilan's profile and origin
and the privacy flags are set before the rules pick a response — a reply is
therefore always in the language of the message and for this asker. (Unlike a
custom slot mapping, this action may also send messages: the privacy reminder,
and a kind word with the offer of an adviser to a person in distress.)
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import enquiry_log, responses
from actions.conversation import distress_message
from actions.session import channel_of
from core.content import LANGUAGES
from core.countries import find_countries
from core.language import detect_language
from core.privacy import contains_identifier
from core.profiles import origin_of, profile_codes, profile_of
from core.situation import PROFESSIONAL_ROLES, Reading, Situation, merge, read_message

SUPPORTED = LANGUAGES  # the languages the assistant answers in (core/content.py)
_ASKS_ENGLISH = re.compile(r"\b(english|anglais|inglese|ingles)\b", re.I)
_ASKS_FRENCH = re.compile(r"\b(french|fran[cç]ais|francais)\b", re.I)


def payload_entities(message: Dict[str, Any]) -> Dict[str, Any]:
    return {e.get("entity"): e.get("value") for e in message.get("entities", []) if e.get("entity")}


def is_button_payload(text: str) -> bool:
    return text.startswith("/")


def requested_language(text: str, entities: Dict[str, Any], current: Optional[str]) -> str:
    """Target of a "switch language" request; without a named language, the other one."""
    if entities.get("language") in SUPPORTED:
        return entities["language"]
    if _ASKS_ENGLISH.search(text):
        return "en"
    if _ASKS_FRENCH.search(text):
        return "fr"
    return "en" if current == "fr" else "fr"


def ensure_enquiry(tracker: Tracker, language: Optional[str]) -> List[Dict[Text, Any]]:
    """Opens an enquiry when the session started without one (e.g. database down then)."""
    if tracker.get_slot("enquiry_id"):
        return []
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    enquiry_id = enquiry_log.open_enquiry(tracker.sender_id, channel_of(metadata), language)
    return [SlotSet("enquiry_id", enquiry_id)]


def answered_origin(tracker: Tracker, text: str, intent: Optional[str], reading: Reading) -> Optional[str]:
    """A country typed in answer to "In which country are you insured or established?" (or as a
    bare `inform`): the asker's own country, whatever cue the words carry."""
    if not (tracker.get_slot("origin_asked") or intent == "inform"):
        return None
    if tracker.get_slot("origin_asked") and reading.role not in PROFESSIONAL_ROLES:
        found = reading.situation.insured_country or reading.situation.residence_country
        if found:
            return found
    mentions = find_countries(text)
    return mentions[0].iso2 if len(mentions) == 1 else None


class ActionExtractContext(Action):
    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        message = tracker.latest_message or {}
        text = message.get("text") or ""
        intent = (message.get("intent") or {}).get("name")
        entities = payload_entities(message)
        metadata = message.get("metadata") or {}
        previous = tracker.get_slot("language")
        hint = metadata.get("language") or tracker.get_slot("page_language")
        events: List[Dict[Text, Any]] = []

        # Language: the message decides; the page language is only a hint.
        if intent == "switch_language":
            language = requested_language(text, entities, previous)
            detected = language
        elif is_button_payload(text):
            language = detected = previous or (hint if hint in SUPPORTED else "fr")
        else:
            detected = detect_language(text, hint=hint, previous=previous)
            language = detected if detected in SUPPORTED else (previous or (hint if hint in SUPPORTED else "fr"))
        events += [SlotSet("language", language), SlotSet("detected_language", detected)]
        events += ensure_enquiry(tracker, language)

        # The asker's situation (C2) and the bilan's profile and origin, from what the text states.
        in_form = tracker.active_loop.get("name") if tracker.active_loop else None
        reading = Reading(situation=Situation())
        if not is_button_payload(text) and not in_form:
            reading = read_message(text, detected if detected == "fr" else "en",
                                   asked_fact=tracker.get_slot("asked_fact"))
        known = Situation.from_slots(tracker.current_slot_values())
        situation = merge(known, reading)
        events += [SlotSet(name, value) for name, value in situation.as_slots().items()
                   if value != tracker.get_slot(name)]

        profile = entities.get("profile") if entities.get("profile") in profile_codes() else None
        origin = entities.get("country")
        profile = profile or profile_of(reading)
        origin = origin or origin_of(reading)
        if not origin and not is_button_payload(text) and not in_form:
            origin = answered_origin(tracker, text, intent, reading)
        treatment = reading.situation.treatment_country
        if profile and profile != tracker.get_slot("profile"):
            events.append(SlotSet("profile", profile))
        if origin and origin != tracker.get_slot("origin_country"):
            events.append(SlotSet("origin_country", origin))

        # Privacy: identifiers are never echoed; remind the user once per message.
        # The e-mail address asked by the escalation form is expected, not a slip.
        identifier = (
            not is_button_payload(text)
            and tracker.get_slot("requested_slot") != "contact_email"
            and contains_identifier(text)
        )
        events.append(SlotSet("identifier_seen", identifier))
        if identifier:
            dispatcher.utter_message(**responses.render("utter_privacy_reminder", language))
        # Distress or a big bill: a kind word and the offer of an adviser first, once.
        if reading.distress and not tracker.get_slot("distress"):
            dispatcher.utter_message(**distress_message(language))
            events.append(SlotSet("distress", True))

        enquiry_id = tracker.get_slot("enquiry_id") or next(
            (e["value"] for e in events if e.get("name") == "enquiry_id"), None
        )
        if enquiry_id:
            # The log keeps the language the person wrote in (de, pl…), the slot the one we answer in.
            enquiry_log.update_requester(
                enquiry_id, profile=profile, origin_country=origin, treatment_country=treatment,
                language=detected if detected not in SUPPORTED else language,
            )
            enquiry_log.touch(enquiry_id)
        return events
