"""Reads the context out of every user message, before any reply is chosen.

Rasa runs the global slot-validation action (`action_validate_slot_mappings`)
after each user message, so the language, countries, profile and privacy flags
are set before the rules pick a response — a reply is therefore always in the
language of the message. (Unlike a custom slot mapping, this action may also
send messages: the privacy reminder.)
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import enquiry_log, responses
from actions.session import channel_of
from core.countries import find_countries
from core.language import detect_language
from core.privacy import contains_identifier
from core.profiles import detect_profile, profile_codes

SUPPORTED = ("fr", "en")
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

        # Requester context: a button payload, else what the text says.
        profile = entities.get("profile") if entities.get("profile") in profile_codes() else None
        origin = entities.get("country")
        treatment = None
        if not is_button_payload(text):
            profile = profile or detect_profile(text)
            for mention in find_countries(text):
                role = mention.role or ("origin" if intent == "inform" or tracker.get_slot("origin_asked") else "treatment")
                if role == "origin" and not origin:
                    origin = mention.iso2
                elif role == "treatment" and not treatment:
                    treatment = mention.iso2
        if profile and profile != tracker.get_slot("profile"):
            events.append(SlotSet("profile", profile))
        if origin and origin != tracker.get_slot("origin_country"):
            events.append(SlotSet("origin_country", origin))
        if treatment and treatment != tracker.get_slot("treatment_country"):
            events.append(SlotSet("treatment_country", treatment))

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
        if detected not in SUPPORTED:
            dispatcher.utter_message(**responses.render("utter_other_language", language))

        enquiry_id = tracker.get_slot("enquiry_id") or next(
            (e["value"] for e in events if e.get("name") == "enquiry_id"), None
        )
        if enquiry_id:
            enquiry_log.update_requester(
                enquiry_id, profile=profile, origin_country=origin, treatment_country=treatment, language=language
            )
            enquiry_log.touch(enquiry_id)
        return events
