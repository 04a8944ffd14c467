"""Answers the 40 question types from content/answers, with legal basis and links.

Routing comes from the content file: BOT answers, BOT_H answers then offers a
PCN agent, H orients and offers an agent straight away. A personal identifier
in the question also leads to the offer: such a case needs a person.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import enquiry_log, responses
from core.content import QuestionType, answer_by_intent, load_countries_file, localized
from core.countries import country, coverage_note_key, find_countries
from core.privacy import redact

# Buttons of the country question: the most frequent origins in the 2015 bilan.
ORIGIN_BUTTONS = ("FR", "BE", "DE", "ES", "GB", "PL", "IT", "LU")  # one source: a UI choice, not a group


def compose_answer(qt: QuestionType, language: str) -> str:
    """Answer text, then its legal basis and official links (one message)."""
    text = qt.answer.get(language) or qt.answer["fr"]
    parts = [text.short, text.details] if text.details else [text.short]
    parts.append(responses.text("utter_legal_basis", language, legal_basis=localized(qt.legal_basis, language)))
    links = qt.links.get(language) or qt.links.get("fr") or []
    if links:
        separator = " : " if language == "fr" else ": "
        parts.append(responses.text("utter_learn_more", language,
                                    links=" ; ".join(f"{link.label}{separator}{link.url}" for link in links)))
    return "\n\n".join(parts)


def country_note(iso2: Optional[str], language: str) -> Optional[str]:
    """What changes for Switzerland, the UK, the EEA-EFTA states or a third country."""
    key = coverage_note_key(iso2) if iso2 else None
    notes = load_countries_file().get("coverage_notes", {})
    if not key or key not in notes:
        return None
    name = localized(country(iso2)["names"], language)
    return responses.text("utter_country_note", language, country=name, note=localized(notes[key], language))


def profile_question(language: str) -> Dict[str, Any]:
    from core.content import load_vocabularies

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


class ActionAnswerQuestion(Action):
    def name(self) -> Text:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        qt = answer_by_intent(intent)
        language = tracker.get_slot("language") or "fr"
        if qt is None:  # an intent without content: never a dead end
            dispatcher.utter_message(response="utter_fallback_offer_human")
            return [SlotSet("handoff_offered", True), SlotSet("feedback_asked", False)]

        dispatcher.utter_message(text=compose_answer(qt, language))
        # The country note only when this message names the country, not on every later answer.
        treatment = tracker.get_slot("treatment_country")
        if treatment and treatment in {m.iso2 for m in find_countries(message.get("text") or "")}:
            note = country_note(treatment, language)
            if note:
                dispatcher.utter_message(text=note)

        personal = bool(tracker.get_slot("identifier_seen"))
        offer = qt.offers_agent or personal
        if offer:
            if qt.handoff:
                dispatcher.utter_message(text=localized(qt.handoff, language))
            dispatcher.utter_message(response="utter_offer_human")
        else:
            dispatcher.utter_message(response="utter_was_this_helpful")

        events: List[Dict[Text, Any]] = [SlotSet("origin_asked", False)]
        asks_profile_or_origin = False
        if not tracker.get_slot("profile_asked"):
            # Asked once, after the first answer; what the user already said is not asked again.
            if not tracker.get_slot("profile"):
                dispatcher.utter_message(**profile_question(language))
                asks_profile_or_origin = True
            elif not tracker.get_slot("origin_country"):
                dispatcher.utter_message(**origin_question(language))
                events.append(SlotSet("origin_asked", True))
                asks_profile_or_origin = True
            events.append(SlotSet("profile_asked", True))

        raw_text = message.get("text") or ""
        enquiry_id = tracker.get_slot("enquiry_id")
        if enquiry_id:
            enquiry_log.record_question(
                enquiry_id=enquiry_id,
                text=raw_text,
                intent=intent,
                confidence=(message.get("intent") or {}).get("confidence"),
                question_code=qt.code,
                category=qt.category,
                # BOT_H gave the general answer; only H left the question to an agent.
                outcome="handoff_offered" if qt.route == "H" else "answered",
            )
        return events + [
            SlotSet("handoff_offered", offer),
            # A typed yes / no answers the last question asked: feedback only if nothing followed it.
            SlotSet("feedback_asked", not offer and not asks_profile_or_origin),
            SlotSet("last_question_code", qt.code),
            # Patterns only here (fast); names are redacted when the text is shown back.
            SlotSet("last_question_text", redact(raw_text, use_ner=False)),
        ]


class ActionAcknowledgeContext(Action):
    """A profile or a country given by button or free text: note it, ask what is missing."""

    def name(self) -> Text:
        return "action_acknowledge_context"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = tracker.get_slot("language") or "fr"
        events: List[Dict[Text, Any]] = [SlotSet("feedback_asked", False)]
        if tracker.get_slot("profile") and not tracker.get_slot("origin_country") and not tracker.get_slot("origin_asked"):
            dispatcher.utter_message(**origin_question(language))
            return events + [SlotSet("origin_asked", True), SlotSet("profile_asked", True)]
        if tracker.get_slot("origin_asked"):
            events.append(SlotSet("origin_asked", False))
        note = country_note(tracker.get_slot("origin_country"), language)
        if note:
            dispatcher.utter_message(text=note)
        dispatcher.utter_message(response="utter_context_noted")
        return events
