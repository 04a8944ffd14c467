"""The console's audit trail and transcript in words (dashboard/readable.py, browser review §4.3-4.4, L4)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard import readable
from dashboard.i18n import ui_labels

ROOT = Path(__file__).resolve().parents[2]
RAW = re.compile(r"[{}\[\]=]|\b(None|True|False)\b|\w+_\w+")  # Python syntax or a snake_case code

# one detail of each kind the desk writes (db/repositories/*, mail/, db/retention.py, db/subjects.py)
DETAILS = [
    ("created", {"source": "mail", "channel": "email", "enquiry_id": 12}),
    ("created", {"source": "demo"}),
    ("status", {"from": "new", "to": "open"}),
    ("status", {"from": "waiting", "to": "open", "by": "requester"}),
    ("claimed", {"from": None, "to": 3}),
    ("assigned", {"from": 3, "to": 4}),
    ("field", {"category": [None, "b"], "profile": ["UNK", "IND"], "origin_country": [None, "FR"],
               "origin_group": [None, "FR"], "treatment_country": ["ES", "DE"]}),
    ("replied", {"message_id": 7}),
    ("replied", {"email_status": "sent", "source": "demo"}),
    ("note", {"message_id": 8}),
    ("mail_sent", {"kind": "ack", "outbox_id": 2}),
    ("mail_received", {"message_id": 9, "kind": "inbound", "flags": ["charset", "truncated"]}),
    ("attachment_downloaded", {"attachment_id": 5}),
    ("not_a_request", {"enquiry_id": 12}),
    ("purged", {"by": "timer"}),
    ("contact_erased", {"by": "timer"}),
]


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("action,detail", DETAILS)
def test_every_audit_row_reads_as_words(action, detail, lang):
    shown_action = readable.audit_action(action, lang)
    shown_detail = readable.audit_detail(action, detail, lang)
    assert not RAW.search(shown_action), shown_action
    assert not RAW.search(shown_detail), shown_detail


def test_audit_details_in_french_and_english():
    assert readable.audit_detail("status", {"from": "new", "to": "open", "by": "requester"}, "fr") == (
        "Nouveau → En cours (courriel du demandeur)")
    field = readable.audit_detail("field", {"profile": ["UNK", "IND"], "origin_country": [None, "FR"]}, "fr")
    assert field == "Profil : Inconnu → Particuliers ; Pays d'origine : — → FR"
    assert readable.audit_detail("field", {"profile": ["UNK", "IND"]}, "en") == "Profile: Unknown → Individuals"
    assert readable.audit_detail("mail_sent", {"kind": "ack", "outbox_id": 2}, "fr") == "Type : accusé de réception"
    assert readable.audit_action("mail_received", "fr") == "Courriel reçu"


def test_every_audit_action_the_desk_writes_has_a_label():
    """A new action in db/ or mail/ must come with its words in dashboard/labels.yml."""
    written = set()
    for path in list((ROOT / "db").rglob("*.py")) + list((ROOT / "mail").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        written |= set(re.findall(r'(?:TicketAudit|PrivacyAudit)\((?:(?!Audit\().){0,300}?action="(\w+)"', source, re.S))
        written |= set(re.findall(r'\b_audit\(s, (?:[\w.]+, ){0,3}"(\w+)"', source))
        written |= set(re.findall(r'clear_ticket_texts\([^)]*"(\w+)", \w+\)', source))
    labelled = set(ui_labels()["actions"]) | set(ui_labels()["privacy_actions"])
    assert {"created", "status", "field", "mail_received", "purged", "erased", "export"} <= written  # the scan works
    assert written <= labelled, sorted(written - labelled)


def test_button_payloads_in_the_transcript_are_words():
    assert readable.payload_text("/request_human", "fr") == "[bouton : demande à parler à un agent]"
    assert readable.payload_text("/request_human", "en") == "[button: asks for an adviser]"
    shown = readable.payload_text('/inform{"insured_country": "FR", "country": "FR"}', "fr")
    assert shown == "[bouton : précision (Pays d'assurance : FR, Pays : FR)]"
    assert readable.payload_text("/some_new_intent", "fr") == "[bouton : some new intent]"
    assert readable.payload_text("Je veux un S2 / un E112", "fr") is None  # typed text stays as typed
    assert readable.payload_text("/inform{not json", "fr") == "[bouton : précision]"


def test_privacy_operation_details_are_words():
    shown = readable.mapping_text({"tickets": ["PCN-2026-000001"], "enquiries": 2, "question_texts": 1,
                                   "conversation_events": 14, "spooled_drafts": 0}, "fr")
    assert shown == ("Tickets : PCN-2026-000001 ; Demandes : 2 ; Textes de questions effacés : 1 ; "
                     "Messages de conversation effacés : 14 ; Brouillons en attente effacés : 0")
    assert not RAW.search(readable.mapping_text({"policy": {"conversation_days": 30}, "tickets_purged": [],
                                                 "contact_emails_deleted": 0}, "fr"))
