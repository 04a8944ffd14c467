"""bot.tracker_store.UrlSQLTrackerStore: Rasa conversations in the desk database."""
from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
import sqlalchemy as sa

pytest.importorskip("rasa")

from rasa.core.tracker_store import FailSafeTrackerStore, TrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402
from rasa.utils.endpoints import EndpointConfig  # noqa: E402

from bot.tracker_store import UrlSQLTrackerStore  # noqa: E402
from db import migrate  # noqa: E402

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, q_a1_right_to_care]
slots:
  language:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
responses:
  utter_greet: [{text: "Bonjour"}]
"""
)


def _tracker(sender_id: str) -> DialogueStateTracker:
    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("Bonjour", {"name": "greet", "confidence": 0.99}),
        SlotSet("language", "fr"),
        ActionExecuted("utter_greet"),
        BotUttered("Bonjour"),
        ActionExecuted("action_listen"),
    ]
    return DialogueStateTracker.from_events(sender_id, events, DOMAIN.slots)


def _round_trip(store: TrackerStore, sender_id: str = "conv-42") -> DialogueStateTracker:
    tracker = _tracker(sender_id)
    asyncio.run(store.save(tracker))
    # a second save (next turn) stores only the new events
    tracker.update(UserUttered("Droit aux soins ?", {"name": "q_a1_right_to_care", "confidence": 0.9}))
    asyncio.run(store.save(tracker))
    restored = asyncio.run(store.retrieve(sender_id))
    assert restored is not None
    assert restored.get_slot("language") == "fr"
    assert len(restored.events) == len(tracker.events)
    assert restored.latest_message.text == "Droit aux soins ?"
    return restored


def test_db_tracker_store_round_trip(database_url):
    store = UrlSQLTrackerStore(domain=DOMAIN, host=database_url)
    _round_trip(store)
    assert "conv-42" in asyncio.run(store.keys())
    # conversations survive a restart: a new store on the same URL sees them
    store.engine.dispose()
    again = UrlSQLTrackerStore(domain=DOMAIN, url=database_url)
    assert asyncio.run(again.retrieve("conv-42")).get_slot("language") == "fr"
    again.engine.dispose()


def test_db_tracker_store_from_endpoint_config(database_url):
    """As Rasa builds it from endpoints.yml (type + url)."""
    migrate.upgrade(database_url)  # desk tables and Rasa's events table side by side
    config = EndpointConfig(url=database_url, type="bot.tracker_store.UrlSQLTrackerStore")
    store = TrackerStore.create(config, domain=DOMAIN)
    assert isinstance(store, UrlSQLTrackerStore)
    _round_trip(store, "conv-endpoint")
    assert migrate.compare_to_models(database_url) == []
    store.engine.dispose()


def test_db_tracker_store_relative_sqlite_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = UrlSQLTrackerStore(domain=DOMAIN, host="sqlite:///sub/rasa.db")
    _round_trip(store)
    assert (tmp_path / "sub" / "rasa.db").exists()
    store.engine.dispose()


def test_db_tracker_store_defaults_to_pcn_database_url(sqlite_url, monkeypatch):
    monkeypatch.setenv("PCN_DATABASE_URL", sqlite_url)
    store = UrlSQLTrackerStore(domain=DOMAIN, host=None, dialect="sqlite", db="ignored.db")
    assert store.url == sqlite_url
    _round_trip(store)
    store.engine.dispose()


def test_db_tracker_store_starts_when_database_is_down():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    store = UrlSQLTrackerStore(
        domain=DOMAIN, host=f"postgresql://postgres@127.0.0.1:{port}/x", connect_retries=2, retry_delay=0.1
    )
    assert time.monotonic() - started < 10
    assert store._tables_ready is False
    # Rasa's agent wraps every store in FailSafeTrackerStore: the bot keeps answering,
    # and the conversation goes on from memory instead of restarting at every turn
    failsafe = FailSafeTrackerStore(store)
    tracker = _tracker("conv-down")
    asyncio.run(failsafe.save(tracker))
    kept = asyncio.run(failsafe.retrieve("conv-down"))
    assert kept is not None and kept.get_slot("language") == "fr"
    assert len(kept.events) == len(tracker.events)


@pytest.fixture
def store_behind_proxy(postgres_url):
    """(proxy, store on PostgreSQL through the proxy, as Rasa wraps it, the store itself)."""
    from tests.tcp_proxy import TcpProxy

    proxy, proxied = TcpProxy.in_front_of(postgres_url)
    store = UrlSQLTrackerStore(domain=DOMAIN, url=proxied)
    yield proxy, FailSafeTrackerStore(store), store
    proxy.cut()
    store.engine.dispose()


@pytest.mark.postgres
def test_db_tracker_store_writes_what_it_kept_once_the_database_is_back(postgres_url, store_behind_proxy):
    proxy, failsafe, store = store_behind_proxy
    proxy.cut()
    tracker = _tracker("conv-outage")
    asyncio.run(failsafe.save(tracker))
    tracker.update(UserUttered("Et le formulaire S2 ?", {"name": "q_b1_s2", "confidence": 0.9}))
    asyncio.run(failsafe.save(tracker))
    assert len(asyncio.run(failsafe.retrieve("conv-outage")).events) == len(tracker.events)

    proxy.start()
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(failsafe.save(tracker))
    assert "conv-outage" not in store._unsaved.store
    store.engine.dispose()
    fresh = UrlSQLTrackerStore(domain=DOMAIN, url=postgres_url)
    restored = asyncio.run(fresh.retrieve_full_tracker("conv-outage"))
    assert restored is not None and list(restored.events) == list(tracker.events)
    fresh.engine.dispose()


@pytest.mark.postgres
def test_db_tracker_store_two_workers_creating_the_table_at_once(postgres_url):
    """Two Rasa workers start together on an empty database: both get a working store."""
    import threading

    stores, errors = [], []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            barrier.wait()
            stores.append(UrlSQLTrackerStore(domain=DOMAIN, url=postgres_url, connect_retries=1))
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(stores) == 4
    assert all(store._tables_ready for store in stores)
    for k, store in enumerate(stores):
        _round_trip(store, f"conv-worker-{k}")
        store.engine.dispose()


@pytest.mark.postgres
def test_db_tracker_store_conversation_started_afresh_during_an_outage_is_stored_whole(postgres_url, store_behind_proxy):
    """The database goes down in the middle of a conversation: Rasa cannot read it and starts
    a new tracker; once the database is back every event of that new tracker is stored."""
    proxy, failsafe, store = store_behind_proxy
    before = _tracker("conv-mid")
    before.update(UserUttered("Et le S2 ?", {"name": "q_b4_s2_form", "confidence": 0.9}))
    asyncio.run(failsafe.save(before))  # 9 events stored
    proxy.cut()
    assert asyncio.run(failsafe.retrieve("conv-mid")) is None  # Rasa then starts afresh
    during = _tracker("conv-mid")  # 8 new events
    asyncio.run(failsafe.save(during))
    proxy.start()
    during.update(ActionExecuted("action_listen"))
    asyncio.run(failsafe.save(during))
    store.engine.dispose()
    fresh = UrlSQLTrackerStore(domain=DOMAIN, url=postgres_url)
    stored = asyncio.run(fresh.retrieve_full_tracker("conv-mid"))
    assert list(stored.events) == list(before.events) + list(during.events)
    fresh.engine.dispose()


# ------------------------------------------------------------------ nothing raw at rest
PII = {
    "nir": "1 85 05 78 006 084 91",
    "email": "jeanne.martin@example.org",
    "phone": "06 12 34 56 78",
    "iban": "FR76 3000 6000 0112 3456 7890 189",
    "name": "Jeanne Martin",
    "bare_name": "Ksenia Wołowska",
    "secret_metadata": "tracking-cookie-4242",
}


ENQUIRY_ID = "370c8fd672b84c62adc8fae9dbda44b2"   # the desk's own id (a uuid hex): kept as is


def _conversation_with_pii(sender_id: str) -> DialogueStateTracker:
    domain = Domain.from_yaml(
        """
version: "3.1"
intents: [greet, inform]
slots:
  language: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  last_question_text: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  contact_email: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  escalation_question: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  enquiry_id: {type: text, influence_conversation: false, mappings: [{type: custom}]}
responses:
  utter_greet: [{text: "Bonjour"}]
"""
    )
    first = f"Je m'appelle {PII['name']}, NIR {PII['nir']}, tél {PII['phone']}, IBAN {PII['iban']}"
    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        SlotSet("session_started_metadata", {"language": "fr", "cookie": PII["secret_metadata"]}),
        SlotSet("enquiry_id", ENQUIRY_ID),
        ActionExecuted("action_listen"),
        UserUttered(first, {"name": "inform", "confidence": 0.9},
                    metadata={"language": "fr", "channel": "web", "cookie": PII["secret_metadata"]}),
        SlotSet("last_question_text", first),
        BotUttered(f"Vous avez écrit : {first}"),
        ActionExecuted("action_listen"),
        UserUttered(f"J'ai parlé avec {PII['bare_name']} hier", {"name": "inform", "confidence": 0.9}),
        UserUttered(PII["email"], {"name": "inform", "confidence": 0.9}),
        SlotSet("contact_email", PII["email"]),
        SlotSet("escalation_question", first),
        ActionExecuted("action_listen"),
    ]
    return DialogueStateTracker.from_events(sender_id, events, domain.slots), domain


def _stored_text(store: UrlSQLTrackerStore) -> str:
    with store.engine.connect() as connection:
        return "\n".join(row[0] for row in connection.execute(sa.text("SELECT data FROM events")))


def _store_with_pii(url: str, sender_id: str):
    store = UrlSQLTrackerStore(domain=DOMAIN, url=url)
    tracker, domain = _conversation_with_pii(sender_id)
    store.domain = domain
    asyncio.run(store.save(tracker))
    return store, tracker


def test_db_tracker_store_keeps_nothing_raw_at_rest(database_url):
    from db.retention import redact_new_events

    store, tracker = _store_with_pii(database_url, "conv-pii")
    # the patterns, before the save: everything but the name without a cue
    assert json.dumps(PII["bare_name"])[1:-1] in _stored_text(store)
    # then the NER pass (the action server runs it every few seconds)
    last, changed = redact_new_events(0, url=database_url)
    assert changed >= 1 and redact_new_events(last, url=database_url) == (last, 0)
    stored = _stored_text(store)
    for kind, value in PII.items():
        assert value not in stored, kind
        assert json.dumps(value)[1:-1] not in stored, kind   # as JSON escapes it ("Wo\\u0142owska")
    for placeholder in ("[NIR]", "[PHONE]", "[IBAN]", "[PERSON]", "[EMAIL]"):
        assert placeholder in stored
    assert '"channel": "web"' in stored   # the metadata the desk uses is kept
    # the conversation reads back, redacted
    restored = asyncio.run(store.retrieve_full_tracker("conv-pii"))
    assert restored.get_slot("contact_email") == "[EMAIL]"
    assert restored.get_slot("enquiry_id") == ENQUIRY_ID
    assert restored.get_slot("last_question_text").startswith("Je m'appelle [PERSON], NIR [NIR]")
    assert len(restored.events) == len(tracker.events)
    store.engine.dispose()


def test_db_tracker_store_redaction_off_only_for_the_benchmark(sqlite_url, monkeypatch):
    monkeypatch.setenv("PCN_TRACKER_REDACTION", "off")
    store, _ = _store_with_pii(sqlite_url, "conv-raw")
    assert PII["nir"] in _stored_text(store)   # the control of the side-by-side benchmark
    store.engine.dispose()


def test_db_tracker_store_writes_the_assistant_texts_once_redacted(sqlite_url):
    """The assistant's texts repeat: their redaction is cached, and still applied."""
    from core.privacy import _redact_ours

    store, _ = _store_with_pii(sqlite_url, "conv-bot")
    hits = _redact_ours.cache_info().hits
    _store_with_pii(sqlite_url, "conv-bot-2")
    assert _redact_ours.cache_info().hits > hits
    assert json.dumps("Vous avez écrit : Je m'appelle [PERSON]")[1:-1] in _stored_text(store)
    store.engine.dispose()
