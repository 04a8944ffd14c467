"""Answers the question types of content/answers for the asker's situation.

One answer turn: the first bubble (direct answer, what to do, time limit) with
two buttons, "More details" and "Sources"; the widget opens them in place from
the data sent with the answer (a `custom` message), any other REST client gets
them by sending the buttons' payloads (/more_details, /show_sources). Then at
most one question (actions/follow_up.py). "The NCP informs; your fund decides"
is said once per conversation.

When the answer depends on who insures the asker and the conversation does not
tell, the assistant first asks that one question ("Where are you insured?"),
remembers the pending question (slots `asked_fact`, `pending_question`) and
answers it when the reply comes, by button or typed.

Routing comes from the content file: BOT answers, BOT_H answers then offers an
NCP adviser, H orients and offers an adviser. A personal identifier in the
question also leads to the offer: such a case needs a person.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import answer_text, enquiry_log, follow_up, responses
from actions.context import payload_entities
from core.content import QuestionType, answer_by_intent, load_answers, localized
from core.countries import find_countries
from core.privacy import redact
from core.situation import Situation

INSURED_COUNTRY = "insured_country"  # value of `asked_fact` while "Where are you insured?" waits for its reply
SHORT_REPLY_WORDS = 5  # "je suis assurée en Belgique"
# "The NCP informs; your fund decides": once per conversation (the greeting says it too).
DISCLAIMERS = ("utter_ncp_informs", "utter_ncp_informs_insurer", "utter_greet")


# --------------------------------------------------------------------------- the asker
def reply_to_insurer_question(tracker: Tracker) -> Tuple[Optional[str], Optional[str]]:
    """(insured_country, insurance_group) given by this message in reply to "Where are you insured?".

    A button carries one or the other ("another EU/EEA country" has no country);
    a typed reply is read by the context action into `insured_country`; if it did
    not, the first country the reply names is taken.
    """
    if tracker.get_slot("asked_fact") != INSURED_COUNTRY:
        return None, None
    message = tracker.latest_message or {}
    entities = payload_entities(message)
    if entities.get("insured_country") or entities.get("insurance_group"):
        return entities.get("insured_country"), entities.get("insurance_group")
    text = message.get("text") or ""
    if tracker.get_slot("insured_country") or text.startswith("/"):
        return None, None
    mentions = find_countries(text)
    return (mentions[0].iso2 if mentions else None), None


def is_short_reply(tracker: Tracker) -> bool:
    """A few words naming where the asker is insured, right after the assistant asked it."""
    text = (tracker.latest_message or {}).get("text") or ""
    return answer_text.words(text) <= SHORT_REPLY_WORDS and any(reply_to_insurer_question(tracker))


def situation_of(tracker: Tracker) -> Tuple[Situation, Optional[str], List[Dict[Text, Any]]]:
    """The asker's situation, insurance group, and the slots a reply to the insurer question fills."""
    situation = Situation.from_slots({name: tracker.get_slot(name) for name in Situation.slot_names()})
    stated_group = tracker.get_slot("insurance_group")
    events: List[Dict[Text, Any]] = []
    iso2, group = reply_to_insurer_question(tracker)
    if iso2:
        situation = situation.merged_with(Situation(insured_country=iso2.upper()))
        events.append(SlotSet("insured_country", iso2.upper()))
    if group:
        stated_group = group
        events.append(SlotSet("insurance_group", group))
    return situation, answer_text.insurance_group_of(situation, stated_group), events


# --------------------------------------------------------------------------- one answer turn
def _note_to_show(tracker: Tracker, key: str, message_text: str) -> bool:
    """A coverage note the first time it applies in a conversation, or when the message names the country."""
    note = key.split("|")[2]
    if not note:
        return False
    shown = {str(e.get("value") or "").split("|")[-1] for e in follow_up.session_events(tracker)
             if e.get("event") == "slot" and e.get("name") == "last_answer"}
    if note not in shown:
        return True
    subject = note.split(":", 1)[1]
    return subject in {m.iso2 for m in find_countries(message_text)}


def answer_payload(rendered: answer_text.Rendered) -> Dict[str, Any]:
    """What the widget needs to open "More details" and "Sources" in place, without a round trip."""
    return {"pcn_answer": {
        "code": rendered.code,
        "language": rendered.language,
        "details": rendered.details,
        "sources": answer_text.sources_text(rendered),
    }}


def answer_buttons(rendered: answer_text.Rendered) -> List[Dict[str, str]]:
    buttons = []
    if rendered.details:
        buttons.append({"title": responses.text("utter_button_more_details", rendered.language),
                        "payload": "/more_details"})
    buttons.append({"title": responses.text("utter_button_sources", rendered.language), "payload": "/show_sources"})
    return buttons


def handoff_message(qt: QuestionType, language: str) -> Dict[str, Any]:
    """The hand-off sentence that is also the offer, with Yes / No buttons."""
    offer = responses.render("utter_offer_human", language)
    sentence = localized(qt.handoff, language).strip()
    if sentence and not sentence.endswith("?"):
        # Content still written as a statement: one bubble all the same, ending with the question.
        sentence = f"{sentence} {responses.text('utter_offer_question', language)}"
    return {"text": sentence or offer["text"], "buttons": offer["buttons"]}


def answer_turn(dispatcher: CollectingDispatcher, tracker: Tracker, qt: QuestionType, situation: Situation,
                group: Optional[str], language: str, message_text: str,
                offer_adviser: bool = False) -> List[Dict[Text, Any]]:
    """Says the answer for this asker, then asks at most one thing; returns the slots it sets.
    `offer_adviser`: the answer may not fit this asker (their insurer is unknown): offer a person."""
    key = answer_text.choose(qt, situation, group)
    if not _note_to_show(tracker, key, message_text):
        key = answer_text.choose(qt, situation, group, with_note=False)
    rendered = answer_text.render(key, language)
    dispatcher.utter_message(text=rendered.first, buttons=answer_buttons(rendered), json_message=answer_payload(rendered))
    if rendered.note:
        dispatcher.utter_message(text=rendered.note)
    if not follow_up.said(tracker, DISCLAIMERS):
        dispatcher.utter_message(response="utter_ncp_informs" if group in (None, "FR") else "utter_ncp_informs_insurer")

    # A personal identifier or distress (slot of actions/context.py) calls for a person too.
    offer = (offer_adviser or qt.offers_agent or bool(tracker.get_slot("identifier_seen"))
             or bool(tracker.get_slot("distress")))
    ask_feedback = not offer and not follow_up.feedback_given(tracker)
    if offer and qt.handoff:
        dispatcher.utter_message(**handoff_message(qt, language))
    elif offer:
        dispatcher.utter_message(response="utter_offer_human")
    elif ask_feedback:
        dispatcher.utter_message(response="utter_was_this_helpful")
    return [
        SlotSet("handoff_offered", offer),
        # A typed yes / no answers the last question asked: feedback only when that was it.
        SlotSet("feedback_asked", ask_feedback),
        SlotSet("last_question_code", qt.code),
        SlotSet("last_answer", key),
        SlotSet("asked_fact", None),
        SlotSet("pending_question", None),
        SlotSet("origin_asked", False),
    ]


def log_question(tracker: Tracker, qt: QuestionType) -> None:
    message = tracker.latest_message or {}
    enquiry_id = tracker.get_slot("enquiry_id")
    if enquiry_id:
        enquiry_log.record_question(
            enquiry_id=enquiry_id,
            text=message.get("text") or "",
            intent=(message.get("intent") or {}).get("name"),
            confidence=(message.get("intent") or {}).get("confidence"),
            question_code=qt.code,
            category=qt.category,
            # BOT_H gave the general answer; only H left the question to an adviser.
            outcome="handoff_offered" if qt.route == "H" else "answered",
        )


# --------------------------------------------------------------------------- actions
class ActionAnswerQuestion(Action):
    def name(self) -> Text:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        message = tracker.latest_message or {}
        qt = answer_by_intent((message.get("intent") or {}).get("name"))
        language = tracker.get_slot("language") or "fr"
        pending = load_answers().get(tracker.get_slot("pending_question") or "")
        if pending and is_short_reply(tracker):
            # "Belgique" after "Where are you insured?" may be read as a question type of
            # its own; it is the reply, and the waiting question is the one to answer.
            situation, group, facts = situation_of(tracker)
            return facts + answer_turn(dispatcher, tracker, pending, situation, group, language,
                                       message.get("text") or "")
        if qt is None:  # an intent without content: never a dead end
            dispatcher.utter_message(response="utter_fallback_offer_human")
            return [SlotSet("handoff_offered", True), SlotSet("feedback_asked", False)]

        raw_text = message.get("text") or ""
        events: List[Dict[Text, Any]] = [
            # Patterns only here (fast); names are redacted when the text is shown back.
            SlotSet("last_question_text", redact(raw_text, use_ner=False)),
        ]
        situation, group, facts = situation_of(tracker)
        events += facts
        qt = answer_text.answering_type(qt, situation, group)
        log_question(tracker, qt)  # the type that answers: the bilan counts what was asked
        if answer_text.needs_insurer(qt, situation, group):
            dispatcher.utter_message(response="utter_ask_insured_country")
            return events + [
                SlotSet("asked_fact", INSURED_COUNTRY),
                SlotSet("pending_question", qt.code),
                SlotSet("last_question_code", qt.code),
                SlotSet("handoff_offered", False),
                SlotSet("feedback_asked", False),
            ]
        return events + answer_turn(dispatcher, tracker, qt, situation, group, language, raw_text)


class ActionAnswerExtra(Action):
    """/more_details and /show_sources from a REST client: the parts of the last answer."""

    def name(self) -> Text:
        return "action_answer_extra"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = tracker.get_slot("language") or "fr"
        key = tracker.get_slot("last_answer") or ""
        if key.split("|")[0] not in load_answers():
            dispatcher.utter_message(response="utter_no_last_answer")
            return []
        rendered = answer_text.render(key, language)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent == "show_sources":
            dispatcher.utter_message(text=answer_text.sources_text(rendered))
        elif rendered.details:
            dispatcher.utter_message(text=rendered.details)
        else:
            dispatcher.utter_message(response="utter_no_more_details")
        return []


class ActionAcknowledgeContext(Action):
    """A profile or a country given by button or free text: answer the question that waited for it,
    else note it and ask what is missing (one question)."""

    def name(self) -> Text:
        return "action_acknowledge_context"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = tracker.get_slot("language") or "fr"
        # The wait for a reply ends here whatever the message says (the rules expect it).
        events: List[Dict[Text, Any]] = [SlotSet("feedback_asked", False), SlotSet("asked_fact", None),
                                         SlotSet("pending_question", None)]
        pending = load_answers().get(tracker.get_slot("pending_question") or "")
        understood = ((tracker.latest_message or {}).get("intent") or {}).get("name") != "nlu_fallback"
        if pending and tracker.get_slot("asked_fact") == INSURED_COUNTRY:
            situation, group, facts = situation_of(tracker)
            text = (tracker.latest_message or {}).get("text") or ""
            if group:
                return events + facts + answer_turn(dispatcher, tracker, pending, situation, group, language, text)
            if understood:
                # "Not insured yet", "I don't know": the waiting question still gets an answer, the
                # general rule said as such, with a person to look at the case (never a dead end).
                dispatcher.utter_message(response="utter_insurer_unknown_general_rule")
                return events + facts + answer_turn(dispatcher, tracker, pending, situation, None, language, text,
                                                    offer_adviser=True)
        if not understood:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return events

        if tracker.get_slot("profile") and not follow_up.origin_known(tracker) and not tracker.get_slot("origin_asked"):
            dispatcher.utter_message(**follow_up.origin_question(language))
            return events + [SlotSet("origin_asked", True), SlotSet("profile_asked", True)]
        if tracker.get_slot("origin_asked"):
            events.append(SlotSet("origin_asked", False))
        note = insurance_note(tracker.get_slot("insured_country") or tracker.get_slot("origin_country"), language)
        if note:
            dispatcher.utter_message(text=note)
        dispatcher.utter_message(response="utter_context_noted")
        return events


def insurance_note(iso2: Optional[str], language: str) -> Optional[str]:
    """What changes for someone insured in Switzerland, the UK, an EEA-EFTA state or a third country."""
    if not iso2 or not answer_text.note_texts("insurance", iso2.upper()):
        return None
    return answer_text.note_line(f"insurance:{iso2.upper()}", language)
