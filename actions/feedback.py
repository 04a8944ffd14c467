""""Was this helpful?": the answer feeds the bilan's satisfaction figures.

A positive answer is the one moment the anonymous survey (who are you, where
are you insured) may follow — once per conversation, and never after a
complaint, an emergency or a hand-off (actions/follow_up.py). A negative one
offers an adviser instead.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import enquiry_log, follow_up

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
        language = tracker.get_slot("language") or "fr"
        if not helpful:
            # A negative answer offers a person (the button leads to the escalation form).
            dispatcher.utter_message(response="utter_feedback_sorry")
            return [SlotSet("handoff_offered", True), SlotSet("feedback_asked", False)]

        dispatcher.utter_message(response="utter_feedback_thanks")
        # The same featurized slots on both paths: RulePolicy wants every rule of an action to list them.
        events: List[Dict[Text, Any]] = [SlotSet("handoff_offered", False), SlotSet("feedback_asked", False)]
        if follow_up.survey_allowed(tracker):
            if not tracker.get_slot("profile"):
                dispatcher.utter_message(**follow_up.profile_question(language))
                events.append(SlotSet("profile_asked", True))
            elif not follow_up.origin_known(tracker):
                dispatcher.utter_message(**follow_up.origin_question(language))
                events += [SlotSet("profile_asked", True), SlotSet("origin_asked", True)]
        return events
