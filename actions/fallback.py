"""Two-stage fallback in the user's language, and out-of-scope questions.

Rasa's built-in affirmation asks "Did you mean 'q_b1_…'?" in English; here the
user gets readable topics in their language and a button to reach an adviser,
then — if still not understood — the offer of an adviser. Every not-understood turn is logged for the bilan's
"top unanswered questions".
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import enquiry_log, responses
from core.content import answer_by_intent, localized

MAX_SUGGESTIONS = 3


def suggestions(tracker: Tracker, language: str) -> List[Dict[str, str]]:
    """Buttons for the most likely question types of the last message."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    buttons = []
    for candidate in ranking:
        qt = answer_by_intent(candidate.get("name"))
        if qt:
            buttons.append({"title": localized(qt.title, language), "payload": f"/{qt.intent}"})
        if len(buttons) == MAX_SUGGESTIONS:
            break
    return buttons


def log_turn(tracker: Tracker, outcome: str) -> None:
    message = tracker.latest_message or {}
    enquiry_id = tracker.get_slot("enquiry_id")
    text = message.get("text") or ""
    if enquiry_id and text and not text.startswith("/"):
        enquiry_log.record_question(
            enquiry_id=enquiry_id,
            text=text,
            intent=(message.get("intent") or {}).get("name"),
            confidence=(message.get("intent") or {}).get("confidence"),
            question_code=None,
            category=None,
            outcome=outcome,
        )


class ActionDefaultAskAffirmation(Action):
    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = tracker.get_slot("language") or "fr"
        log_turn(tracker, "not_understood")
        buttons = suggestions(tracker, language)
        if not buttons:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        buttons.append({"title": responses.text("utter_something_else", language), "payload": "/out_of_scope"})
        # Every fallback offers an adviser: a question the topics do not cover still reaches a person.
        buttons.append({"title": responses.text("utter_adviser_button", language), "payload": "/request_human"})
        dispatcher.utter_message(response="utter_ask_affirmation", buttons=buttons)
        return []


def fell_back_since_last_message(tracker: Tracker, action_name: Text) -> bool:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == action_name:
            return True
    return False


class ActionDefaultFallback(Action):
    """Second failure (or no rule applies): offer a PCN agent, never a dead end."""

    def name(self) -> Text:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if fell_back_since_last_message(tracker, self.name()):
            # A gap in the rules would repeat this offer until Rasa's circuit breaker
            # trips and the conversation stalls: say it once, then listen.
            return [FollowupAction("action_listen")]
        log_turn(tracker, "not_understood")
        dispatcher.utter_message(response="utter_fallback_offer_human")
        return [SlotSet("handoff_offered", True), SlotSet("feedback_asked", False)]


class ActionOutOfScope(Action):
    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        log_turn(tracker, "out_of_scope")
        dispatcher.utter_message(response="utter_out_of_scope")
        return [SlotSet("handoff_offered", False), SlotSet("feedback_asked", False)]
