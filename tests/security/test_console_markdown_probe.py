"""Probe (issue 11): requester text is shown as plain text in the agent console — never as Markdown.

A requester controls the ticket's question and transcript. Rendered as Markdown,
they load remote images in the agent's browser (a tracking pixel), make
``javascript:``/``data:`` links and draw fake warning banners.
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from db.repositories import users
from db.repositories.tickets import TicketDraft, create_ticket

PW = "correct horse battery"
PAYLOAD = ("![pixel](https://attacker.example/pixel.png?who=agent) "
           "[Cliquez pour valider](javascript:alert('tkt')) [t3](data:text/html;base64,PHNjcmlwdD4=) "
           ":orange-background[ALERTE SÉCURITÉ : reconnectez-vous] **URGENT** # GROS TITRE")
MARKERS = ("attacker.example", "javascript:", "data:text/html", ":orange-background[")


@pytest.fixture
def ticket(migrated_db, monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.delenv("PCN_DEMO", raising=False)
    users.create_user("alice", PW, "agent", "Alice")
    return create_ticket(TicketDraft(
        idempotency_key="probe-md", language="fr", question_text=PAYLOAD, contact_email="x@example.org",
        transcript=[{"sender": "user", "text": PAYLOAD, "at": "2026-12-06T16:32:17.110928+00:00"}]))


def _rendered_as_markdown(at) -> list[str]:
    """Every element Streamlit renders through its Markdown renderer."""
    out = []
    for kind in ("markdown", "caption", "latex", "title", "header", "subheader", "info", "warning", "error",
                 "success", "exception"):
        out += [str(getattr(e, "value", "")) for e in at.get(kind)]
    return out


def test_requester_text_is_never_rendered_as_markdown(ticket):
    at = AppTest.from_file("dashboard/app.py", default_timeout=60).run()
    at.text_input(key="login_username").input("alice")
    at.text_input(key="login_password").input(PW)
    at.button[0].click().run()
    at.text_input(key="f_text").input(ticket.reference).run()  # the search opens the ticket
    assert any(ticket.reference in t.value for t in at.title)
    leaks = [v for v in _rendered_as_markdown(at) if any(m in v for m in MARKERS)]
    assert not leaks, f"requester text rendered as Markdown: {leaks}"
    shown = [t.value for t in at.text]
    assert sum(PAYLOAD in v for v in shown) >= 2  # the question and the transcript, as typed
