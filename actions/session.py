"""Opens an enquiry (one per conversation session) and reads the widget's metadata."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import enquiry_log
from core.content import load_vocabularies

SUPPORTED = ("fr", "en")


def channel_of(metadata: Dict[str, Any]) -> str:
    """The channel code of the enquiry log: the widget says "web"; API clients are "rest"."""
    channel = str(metadata.get("channel") or "rest")
    return channel if channel in load_vocabularies()["channels"] else "rest"


def page_language(metadata: Dict[str, Any]) -> str | None:
    language = str(metadata.get("language") or "").lower()[:2]
    return language if language in SUPPORTED else None


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        metadata = tracker.get_slot("session_started_metadata") or {}
        language = page_language(metadata)
        # the conversation's enquiry when Rasa restarted its session because of a database outage
        enquiry_id = enquiry_log.open_enquiry(tracker.sender_id, channel_of(metadata), language)
        return [
            SessionStarted(),
            SlotSet("page_language", language),
            SlotSet("language", language or "fr"),
            SlotSet("enquiry_id", enquiry_id),
            SlotSet("profile_asked", False),
            SlotSet("origin_asked", False),
            SlotSet("handoff_offered", False),
            SlotSet("feedback_asked", False),
            ActionExecuted("action_listen"),
        ]
