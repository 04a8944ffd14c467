""""Was this helpful?": the answer feeds the bilan's satisfaction figures."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import enquiry_log


POSITIVE_INTENTS = {"feedback_positive", "affirm"}


class ActionRecordFeedback(Action):
    def name(self) -> Text:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        # A typed "yes" / "no" right after "Was this answer helpful?" counts as feedback too.
        helpful = tracker.latest_message["intent"]["name"] in POSITIVE_INTENTS
        enquiry_id = tracker.get_slot("enquiry_id")
        if enquiry_id:
            enquiry_log.record_feedback(enquiry_id, helpful)
        if helpful:
            dispatcher.utter_message(response="utter_feedback_thanks")
            # The same slots on both paths: RulePolicy wants every rule of an action to list them.
            return [SlotSet("handoff_offered", False), SlotSet("feedback_asked", False)]
        # A negative answer offers a person (the button leads to the escalation form).
        dispatcher.utter_message(response="utter_feedback_sorry")
        return [SlotSet("handoff_offered", True), SlotSet("feedback_asked", False)]
