"""The privacy pages and the consent notice state the periods the retention job applies."""
from __future__ import annotations

import re

import yaml

from core.settings import REPO_ROOT
from db.retention import RetentionPolicy

PAGES = {"fr": REPO_ROOT / "web" / "donnees-personnelles.html", "en": REPO_ROOT / "web" / "en" / "personal-data.html"}


def _said(days: int, language: str) -> str:
    """How the pages say a period: whole months when it is one ("3 mois"), else days."""
    months = {90: 3, 180: 6, 365: 12, 730: 24}.get(days)
    if months:
        return f"{months} mois" if language == "fr" else f"{months} months"
    return f"{days} jours" if language == "fr" else f"{days} days"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_pages_state_the_default_retention_periods():
    policy = RetentionPolicy()
    assert policy == RetentionPolicy.from_settings()   # the defaults of core/settings.py
    for language, path in PAGES.items():
        text = _text(path.read_text(encoding="utf-8"))
        for days in (policy.conversation_days, policy.contact_days, policy.ticket_days, policy.question_text_days):
            assert _said(days, language) in text, (language, days)
        assert "cnil.fr" in text and "PCN-" in text
        assert "[NIR]" in text and "[PERSON]" in text


def test_consent_notice_states_the_periods_and_comes_before_the_address():
    domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
    policy = RetentionPolicy()
    variants = domain["responses"]["utter_ask_contact_consent"]
    for variant in variants:
        language = "en" if variant.get("condition") else "fr"
        assert _said(policy.contact_days, language) in variant["text"]
        assert _said(policy.ticket_days, language) in variant["text"]
    assert domain["forms"]["escalation_form"]["required_slots"].index("contact_consent") < \
        domain["forms"]["escalation_form"]["required_slots"].index("contact_email")


def test_pages_no_longer_promise_what_the_system_did_not_do():
    fr = _text(PAGES["fr"].read_text(encoding="utf-8"))
    en = _text(PAGES["en"].read_text(encoding="utf-8"))
    assert "statistiques anonymes" not in fr and "anonymous statistics" not in en
    assert "après la durée de conservation" not in fr and "retention period has passed" not in en
