"""Readable words, in the console's language, for the codes the desk stores: audit details, button payloads.

The audit trail and the transcript keep machine values (``{"from": "new", "to": "open"}``,
``/request_human``); an agent reads labels (browser review L4: no raw dict, no English key in the
French UI). Words come from ``dashboard/labels.yml``; a code with no label is shown as is, never a dict.
"""
from __future__ import annotations

import json
import re

from dashboard.i18n import label, t, ui_labels

# identifiers that mean nothing to a reader (the row itself says what happened)
_HIDDEN_KEYS = {"message_id", "outbox_id", "enquiry_id", "attachment_id", "policy"}
# field name -> vocabulary of its values (countries stay ISO codes: agents know them)
_FIELD_VOCABULARY = {"category": "categories", "profile": "profiles", "origin_group": "origin_groups",
                     "channel": "channels", "status": "ticket_statuses"}
_PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_]+)(?P<entities>\{.*)?\s*$", re.S)


def _colon(lang: str) -> str:
    return " : " if lang == "fr" else ": "  # French puts a space before the colon


def _sep(lang: str) -> str:
    return " ; " if lang == "fr" else "; "


def _key(key: str, lang: str) -> str:
    """A stored field's name: ``detail_keys``, else the console's own word for it (category, profile…)."""
    if key in (ui_labels().get("detail_keys") or {}):
        return label_of("detail_keys", key, lang)
    return t(key, lang) if isinstance(ui_labels().get(key), dict) else key


def label_of(group: str, code, lang: str) -> str:
    """A label of ``labels.yml``'s ``group`` (audit_words, detail_keys…), else the code."""
    entry = (ui_labels().get(group) or {}).get(str(code))
    return (entry or {}).get(lang) or (entry or {}).get("fr") or str(code)


def value_text(value, lang: str) -> str:
    """Any stored value as text: lists joined, mappings as 'label : value', never Python syntax."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return t("value_yes" if value else "value_no", lang)
    if isinstance(value, (list, tuple, set)):
        return ", ".join(value_text(v, lang) for v in value) or "—"
    if isinstance(value, dict):
        return mapping_text(value, lang)
    return str(value)


def mapping_text(detail: dict, lang: str) -> str:
    """'Label : value; …' for the keys a reader needs (labels from ``detail_keys``)."""
    parts = []
    for key, value in (detail or {}).items():
        if key in _HIDDEN_KEYS:
            continue
        if key in _FIELD_VOCABULARY and isinstance(value, str):
            shown = label(_FIELD_VOCABULARY[key], value, lang)
        elif key == "email_status":
            shown = t(f"email_status_{value}", lang)
        elif key in ("source", "kind", "by"):
            shown = label_of("audit_words", value, lang)
        elif key == "flags":
            shown = ", ".join(_flag(v, lang) for v in value or []) or "—"
        else:
            shown = value_text(value, lang)
        parts.append(f"{_key(key, lang)}{_colon(lang)}{shown}")
    return _sep(lang).join(parts)


def _flag(flag: str, lang: str) -> str:
    """A mail flag's label (the console's flag_* words; the refused names are in the ticket's thread)."""
    key = f"flag_{flag}"
    return t(key, lang, names="…") if key in ui_labels() else flag


def field_value(field: str, code, lang: str) -> str:
    if code in (None, ""):
        return "—"
    vocab = _FIELD_VOCABULARY.get(field)
    return label(vocab, code, lang) if vocab else str(code)


def audit_action(action: str, lang: str) -> str:
    entry = (ui_labels().get("actions") or {}).get(action) or {}
    return entry.get(lang) or entry.get("fr") or action


def audit_detail(action: str, detail: dict | None, lang: str) -> str:
    """One line a person reads for an audit row's detail."""
    d = dict(detail or {})
    if action == "status":
        text = f"{label('ticket_statuses', d.pop('from', None), lang)} → {label('ticket_statuses', d.pop('to', None), lang)}"
        by = d.pop("by", None)
        return f"{text} ({label_of('audit_words', by, lang)})" if by else text
    if action == "field":
        return _sep(lang).join(f"{_key(k, lang)}{_colon(lang)}{field_value(k, v[0], lang)} → {field_value(k, v[1], lang)}"
                          for k, v in d.items() if isinstance(v, (list, tuple)) and len(v) == 2)
    if action in ("claimed", "assigned", "viewed"):
        return ""  # the row's user and action say it all (the ids in the detail are the assignees')
    return mapping_text(d, lang)


def payload_text(text: str, lang: str) -> str | None:
    """'[bouton : parler à un agent]' for a button's payload (/request_human), None for typed text."""
    match = _PAYLOAD.match(text or "")
    if not match:
        return None
    intent = match["intent"]
    meaning = label_of("payloads", intent, lang)
    if meaning == intent:  # an intent with no label: its name, readable
        meaning = intent.replace("_", " ")
    try:
        entities = json.loads(match["entities"]) if match["entities"] else {}
    except ValueError:
        entities = {}
    if isinstance(entities, dict) and entities:
        meaning += " (" + ", ".join(f"{_key(k, lang)}{_colon(lang)}{value_text(v, lang)}"
                                    for k, v in entities.items()) + ")"
    return t("button_payload", lang, payload=meaning)
