"""Guards on the Rasa internals the desk patches, overrides or relies on.

Rasa 3.6 is pinned, but what bot/ builds on is partly private API. Each entry
below is the hash of ``inspect.getsource`` of one Rasa member as it was when
our code was written against it. An upgrade that changes one of them fails
here, naming it — re-read it, adapt our code, then record the new hash — instead
of silently disabling a patch (bot/rasa_speedups.py), breaking the outage
handling of the tracker store (bot/tracker_store.py) or the limits of the REST
channel (bot/channels.py), or reusing a stale classifier (fingerprinting).
"""
from __future__ import annotations

import hashlib
import importlib
import inspect

import pytest
import rasa

RECORDED = {
    # bot/rasa_speedups.py replaces the first; it builds its validator from the second; the third calls it
    "rasa.core.actions.action:RemoteAction._validate_action_result": "f8cdb4be68123961",
    "rasa.core.actions.action:RemoteAction.action_response_format_spec": "091b74aa3738d126",
    "rasa.core.actions.action:RemoteAction.run": "ccabf6f1160d527a",
    # bot/tracker_store.py: bypasses SQLTrackerStore.__init__ (calls TrackerStore.__init__ and sets up what
    # SQLTrackerStore.__init__ would), wraps session_scope / retrieve / save, overrides _additional_events,
    # uses SQLEvent and Base, keeps unsaved conversations in an InMemoryTrackerStore, and is built by
    # _load_from_module_name_in_endpoint_config (its keyword arguments)
    "rasa.core.tracker_store:TrackerStore.__init__": "f607895f272e5ba7",
    "rasa.core.tracker_store:SQLTrackerStore.__init__": "64e704d159dfa35b",
    "rasa.core.tracker_store:SQLTrackerStore.session_scope": "6775e1ede3ec8d2d",
    "rasa.core.tracker_store:SQLTrackerStore.retrieve": "0d99846daced97d3",
    "rasa.core.tracker_store:SQLTrackerStore.retrieve_full_tracker": "22234b03f47fbdd3",
    "rasa.core.tracker_store:SQLTrackerStore.save": "57165e46eab3de08",
    "rasa.core.tracker_store:SQLTrackerStore._additional_events": "d22f99eb863acb07",
    "rasa.core.tracker_store:SQLTrackerStore.SQLEvent": "696a0661ef7643a9",
    "rasa.core.tracker_store:InMemoryTrackerStore": "e23fec38bdf682d9",
    # ... and, since its events are stored redacted (privacy), writes them itself as SQLTrackerStore.save
    # does, streams them through stream_events and overrides _stream_new_events
    "rasa.core.tracker_store:TrackerStore.stream_events": "efd3615f5340218a",
    "rasa.core.tracker_store:TrackerStore._stream_new_events": "a3990c70850759b8",
    "rasa.core.tracker_store:_load_from_module_name_in_endpoint_config": "ffd9d0b30fd73ea8",
    # bot/channels.py: LimitedRestInput overrides name / blueprint / from_credentials, streams through
    # stream_response and answers through CollectingOutputChannel and UserMessage
    "rasa.core.channels.rest:RestInput.name": "b4f968107c4b2bb8",
    "rasa.core.channels.rest:RestInput.blueprint": "886a9338e4c2505a",
    "rasa.core.channels.rest:RestInput.stream_response": "1fe0bdd810046ffe",
    "rasa.core.channels.rest:RestInput.from_credentials": "56e2b63a88b208dd",
    "rasa.core.channels.channel:CollectingOutputChannel": "8130b47963b6ed0d",
    "rasa.core.channels.channel:UserMessage.__init__": "1a09604afc04796e",
    # bot/nlu/linear_intent_classifier.py: what Rasa fingerprints to decide whether to retrain it
    "rasa.engine.training.fingerprinting:calculate_fingerprint_key": "a495b363247d2897",
}


def resolve(target: str):
    """The Rasa member named by ``target`` — Rasa's own, also once bot.rasa_speedups replaced it."""
    from bot import rasa_speedups

    replaced = rasa_speedups.REPLACED.get(target.split(":")[1])
    if replaced is not None:
        return replaced
    module, attribute = target.split(":")
    obj = importlib.import_module(module)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def source_hash(obj) -> str:
    return hashlib.sha256(inspect.getsource(obj).encode("utf-8")).hexdigest()[:16]


def test_rasa_is_the_version_the_internals_were_read_in():
    assert rasa.__version__ == "3.6.21"


@pytest.mark.parametrize("target", sorted(RECORDED))
def test_a_rasa_member_we_build_on_is_unchanged(target):
    try:
        obj = resolve(target)
    except AttributeError:
        pytest.fail(f"{target} no longer exists in Rasa {rasa.__version__}")
    assert source_hash(obj) == RECORDED[target], (
        f"{target} changed in Rasa {rasa.__version__}: re-read it against our code, then record the new hash")


def overridden(ours: type, theirs: type) -> set:
    """Members our subclass defines that the Rasa class (or its parents) also has."""
    return {name for name in vars(ours) if not name.startswith("__") and hasattr(theirs, name)}


def recorded_members(prefix: str) -> set:
    return {t.split(":")[1].split(".", 1)[1] for t in RECORDED if t.startswith(prefix)}


def test_every_rest_input_member_our_channel_overrides_is_guarded():
    from rasa.core.channels.rest import RestInput

    from bot.channels import LimitedRestInput

    missing = overridden(LimitedRestInput, RestInput) - recorded_members("rasa.core.channels.rest:RestInput.")
    assert not missing, f"bot/channels.py overrides RestInput.{missing}: record their hashes above"


def test_every_sql_tracker_store_member_our_store_overrides_is_guarded():
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.tracker_store import UrlSQLTrackerStore

    guarded = (recorded_members("rasa.core.tracker_store:SQLTrackerStore.")
               | recorded_members("rasa.core.tracker_store:TrackerStore.") | {"__init__"})
    missing = overridden(UrlSQLTrackerStore, SQLTrackerStore) - guarded
    assert not missing, f"bot/tracker_store.py overrides SQLTrackerStore.{missing}: record their hashes above"


def test_the_guard_sees_a_changed_member():
    """The hash is of the source text: any edit of a guarded member changes it."""
    def original(self, result):
        return True

    def edited(self, result):
        return result is not None

    assert source_hash(original) != source_hash(edited)
