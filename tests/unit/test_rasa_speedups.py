"""bot.rasa_speedups: the action server's replies are still validated, by a validator built once."""
from __future__ import annotations

import pytest

pytest.importorskip("rasa")

from jsonschema import ValidationError  # noqa: E402
from rasa.core.actions.action import RemoteAction  # noqa: E402

import bot.channels  # noqa: E402,F401  (applies the speed-up, as in the Rasa server)
from bot import rasa_speedups  # noqa: E402


def _action() -> RemoteAction:
    return RemoteAction("action_answer_question", None)


def test_the_rasa_server_uses_the_cached_validator():
    assert RemoteAction._validate_action_result is rasa_speedups._validate_action_result


def test_a_valid_reply_passes():
    reply = {"events": [{"event": "slot", "name": "language", "value": "fr"}],
             "responses": [{"text": "Bonjour"}]}
    assert _action()._validate_action_result(reply) is True


@pytest.mark.parametrize("reply", [
    {"events": [{"event": "no_such_event"}]},
    {"responses": "not a list"},
    {"events": [{"event": "slot"}]},  # a slot event without its name
])
def test_an_invalid_reply_is_refused_with_rasas_message(reply):
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        _action()._validate_action_result(reply)


def test_same_verdicts_as_jsonschema_validate():
    import jsonschema

    schema = RemoteAction.action_response_format_spec()
    for reply in ({"events": []}, {"events": [{"event": "restart"}]}, {"events": [{"event": "bogus"}]},
                  {"events": [{"event": "action", "name": "utter_greet"}]}, {"responses": [1]}):
        try:
            jsonschema.validate(reply, schema)
            expected = True
        except ValidationError:
            expected = False
        try:
            got = _action()._validate_action_result(reply)
        except ValidationError:
            got = False
        assert got == expected, reply


def test_apply_refuses_a_rasa_it_was_not_written_for(monkeypatch):
    import rasa

    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(rasa_speedups.RasaInternalsChanged, match="3.7.0"):
        rasa_speedups.apply()


def test_apply_refuses_when_what_it_replaces_is_gone(monkeypatch):
    monkeypatch.delattr(RemoteAction, "_validate_action_result")
    with pytest.raises(rasa_speedups.RasaInternalsChanged, match="nothing to replace"):
        rasa_speedups.apply()
