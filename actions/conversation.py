"""Replies that are not answers on the directive: another language, a domestic
French question, a person in distress. Texts: content/conversation_texts.yml.

A message in German, Spanish, Italian, Polish, Dutch or Portuguese is never
"not understood": it is told, in its own language, that the assistant answers
in French or English and that an NCP adviser can answer by e-mail, with the
offer of one. A question about care in France for someone insured in France is
outside the NCP's scope: one kind sentence points to ameli.fr, 3646 and the
mutuelle (reference §1.0).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import enquiry_log
from core.content import load_conversation_texts, localized
from core.language import detect_other_language

SUPPORTED = ("fr", "en")
REQUEST_HUMAN = "/request_human"


def other_language_messages(language: Optional[str]) -> List[Dict[str, Any]]:
    """The notice in `language` (or in both of ours), then the same in French and English, with the
    offer of an adviser and the way back to French or English."""
    texts = load_conversation_texts()["other_languages"]
    chosen = texts.get(language or "")
    buttons = [
        {"title": (chosen or texts["default"])["agent"], "payload": REQUEST_HUMAN},
        {"title": "Français", "payload": '/switch_language{"language": "fr"}'},
        {"title": "English", "payload": '/switch_language{"language": "en"}'},
    ]
    if not chosen:
        return [{"text": texts["default"]["text"], "buttons": buttons}]
    return [{"text": chosen["text"], "buttons": []}, {"text": texts["both_languages"], "buttons": buttons}]


def distress_message(language: str) -> Dict[str, Any]:
    texts = load_conversation_texts()["distress"]
    return {"text": localized(texts, language),
            "buttons": [{"title": localized(texts["button"], language), "payload": REQUEST_HUMAN}]}


def log_question(tracker: Tracker, intent: str, outcome: str) -> None:
    message = tracker.latest_message or {}
    enquiry_id = tracker.get_slot("enquiry_id")
    text = message.get("text") or ""
    if enquiry_id and text and not text.startswith("/"):
        enquiry_log.record_question(
            enquiry_id=enquiry_id, text=text, intent=intent,
            confidence=(message.get("intent") or {}).get("confidence"),
            question_code=None, category=None, outcome=outcome,
        )


class ActionOtherLanguage(Action):
    """A message in a language we do not answer in: say so in that language, offer an adviser."""

    def name(self) -> Text:
        return "action_other_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        text = (tracker.latest_message or {}).get("text") or ""
        language = tracker.get_slot("detected_language")
        if language in SUPPORTED:  # the classifier's guess on a short message: ask lingua without thresholds
            language = detect_other_language(text)
        if language in SUPPORTED:  # French or English after all: not understood, never a dead end
            dispatcher.utter_message(response="utter_fallback_offer_human")
            log_question(tracker, "other_language", "not_understood")
        else:
            for message in other_language_messages(language):
                dispatcher.utter_message(**message)
            log_question(tracker, "other_language", "handoff_offered")
        return [SlotSet("handoff_offered", True), SlotSet("feedback_asked", False)]


class ActionDomesticQuestion(Action):
    """Care in France for someone insured in France: kindly out of scope, with where to ask."""

    def name(self) -> Text:
        return "action_domestic_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = tracker.get_slot("language") or "fr"
        dispatcher.utter_message(text=localized(load_conversation_texts()["domestic_question"], language))
        log_question(tracker, "domestic_question", "out_of_scope")
        return [SlotSet("handoff_offered", False), SlotSet("feedback_asked", False)]
