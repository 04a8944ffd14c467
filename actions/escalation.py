"""Hand-off to a PCN agent: the escalation form and the ticket it creates.

The form confirms the question in the user's words, asks for consent under a
short privacy notice, then for an e-mail address; the ticket keeps a redacted
transcript. A ticket is created once per submission (idempotency key), and is
spooled to disk when the database is down, so a submitted request is never lost.

Why consent comes before the e-mail: the notice is given before the address is
collected (GDPR art. 13), and the address then exists only in the turn in which
it is typed — the ticket is created in that same turn, so the tracker store can
keep it redacted at rest (bot/tracker_store.py) without losing it. Declining
ends the form without asking for an address.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import enquiry_log
from core.content import load_answers
from core.privacy import redact
from core.smtp import valid_address as valid_email

logger = logging.getLogger(__name__)

MIN_QUESTION_CHARS = 10
FORM_SLOTS = ("escalation_question", "contact_email", "contact_consent", "requested_slot")


def transcript(tracker: Tracker) -> List[Dict[str, Any]]:
    """The conversation of this session, user messages redacted (payloads too: one typed
    by hand may carry anything; the buttons' own are left unchanged by the redaction)."""
    lines: List[Dict[str, Any]] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind == "session_started":
            lines = []
        elif kind in ("user", "bot") and event.get("text"):
            text = event["text"]
            if kind == "user":
                text = redact(text)
            at = datetime.fromtimestamp(event.get("timestamp") or 0, tz=timezone.utc).isoformat()
            lines.append({"sender": kind, "text": text, "at": at})
    return lines


def idempotency_key(tracker: Tracker, question: str, email: str) -> str:
    """Same conversation session + same question + same address = same ticket."""
    from db.repositories.tickets import make_idempotency_key

    return make_idempotency_key(tracker.sender_id, tracker.get_slot("enquiry_id") or "", question.strip().lower(),
                                email.lower())


def reset_form() -> List[Dict[Text, Any]]:
    return [SlotSet(name, None) for name in FORM_SLOTS] + [SlotSet("handoff_offered", False), SlotSet("feedback_asked", False)]


class ActionAskEscalationQuestion(Action):
    """Shows the last question back (already redacted) for confirmation, or asks for it."""

    def name(self) -> Text:
        return "action_ask_escalation_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        last = tracker.get_slot("last_question_text")
        if last:
            dispatcher.utter_message(response="utter_ask_escalation_question_confirm", question=redact(last))
        else:
            dispatcher.utter_message(response="utter_ask_escalation_question")
        return []


class ValidateEscalationForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_escalation_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        """No e-mail address is asked from someone who declined to be contacted."""
        if tracker.get_slot("contact_consent") is False:
            return [slot for slot in domain_slots if slot != "contact_email"]
        return domain_slots

    async def extract_escalation_question(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "escalation_question":
            return {}
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        text = (message.get("text") or "").strip()
        if intent == "cancel":
            return {}
        if intent == "affirm" and tracker.get_slot("last_question_text"):
            return {"escalation_question": redact(tracker.get_slot("last_question_text"))}
        if text and not text.startswith("/"):
            return {"escalation_question": redact(text)}
        return {}

    def validate_escalation_question(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not value or len(str(value).strip()) < MIN_QUESTION_CHARS:
            dispatcher.utter_message(response="utter_escalation_question_too_short")
            return {"escalation_question": None}
        return {"escalation_question": str(value).strip()[:2000]}

    def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        candidate = str(value or "").strip().strip("<>").strip()
        if valid_email(candidate):
            return {"contact_email": candidate}
        dispatcher.utter_message(response="utter_invalid_email")
        return {"contact_email": None}


def _create(draft: Any):
    from db.spool import create_ticket_or_spool

    return create_ticket_or_spool(draft)


class ActionCreateTicket(Action):
    def name(self) -> Text:
        return "action_create_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        enquiry_id = tracker.get_slot("enquiry_id")
        if not tracker.get_slot("contact_consent"):
            dispatcher.utter_message(response="utter_no_consent")
            if enquiry_id:
                enquiry_log.touch(enquiry_id)
            return reset_form()

        from db.repositories.tickets import TicketDraft

        question = tracker.get_slot("escalation_question") or ""
        email = tracker.get_slot("contact_email") or ""
        code = tracker.get_slot("last_question_code")
        qt = load_answers().get(code) if code else None
        draft = TicketDraft(
            idempotency_key=idempotency_key(tracker, question, email),
            enquiry_id=enquiry_id,
            conversation_id=tracker.sender_id,
            language=tracker.get_slot("language") or "fr",
            question_text=question,
            contact_email=email,
            consent_at=datetime.now(timezone.utc),
            question_code=code,
            category=qt.category if qt else None,
            profile=tracker.get_slot("profile") or "UNK",
            origin_country=tracker.get_slot("origin_country"),
            treatment_country=tracker.get_slot("treatment_country"),
            transcript=await asyncio.to_thread(transcript, tracker),  # NER redaction: off the event loop
        )
        try:
            # The database call runs in a thread: other conversations keep being served.
            ticket, spooled = await asyncio.to_thread(_create, draft)
        except Exception:  # database down AND spool not writable: keep the slots, offer a retry
            logger.exception("ticket could not be created nor spooled")
            dispatcher.utter_message(response="utter_escalation_unavailable")
            # The address is kept redacted at rest: the retry asks for it again.
            return [SlotSet("requested_slot", None), SlotSet("contact_email", None)]

        if spooled or ticket is None:
            dispatcher.utter_message(response="utter_ticket_spooled")
            return reset_form()
        dispatcher.utter_message(response="utter_ticket_created", reference=ticket.reference)
        return reset_form() + [SlotSet("ticket_reference", ticket.reference)]


class ActionCancelEscalation(Action):
    def name(self) -> Text:
        return "action_cancel_escalation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_escalation_cancelled")
        enquiry_id = tracker.get_slot("enquiry_id")
        if enquiry_id:
            enquiry_log.touch(enquiry_id)
        return reset_form()
