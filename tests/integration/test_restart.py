"""Conversations live in the SQL tracker store: they survive a restart of the servers."""
from __future__ import annotations

import pytest

from tests.servers import start_desk

pytestmark = pytest.mark.integration


def test_conversation_survives_a_restart(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'restart.db'}"
    desk = start_desk(database_url=database_url, web=False)
    try:
        desk.send("restart-1", "Bonjour", "en")
        desk.send("restart-1", "can we speak english please", "fr")
    finally:
        desk.stop()

    desk = start_desk(database_url=database_url, web=False)
    try:
        tracker = desk.tracker("restart-1")
        said = [event.get("text") for event in tracker["events"] if event.get("event") == "user"]
        assert said[:2] == ["Bonjour", "can we speak english please"]
        assert tracker["slots"]["language"] == "en"  # the conversation goes on where it was
        replies = desk.send("restart-1", "thanks", None)
        assert "welcome" in replies[0]["text"]
    finally:
        desk.stop()
