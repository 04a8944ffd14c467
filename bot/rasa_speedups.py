"""A measured fix to Rasa 3.6's per-turn cost, applied in the Rasa server process.

Rasa checks every action server reply with ``jsonschema.validate(result,
schema)``. With jsonschema 4.17 that call first re-validates the *schema*
itself against the JSON-Schema meta-schema, on every remote action call: a
py-spy profile of the Rasa server under load (bench/RESULTS.md, "Latency")
showed two thirds of its CPU time there. The reply is still validated, with the
same schema and the same error message, by a validator built once.

Imported by ``bot.channels`` (the REST channel that credentials.yml loads in
every Rasa server), so it applies wherever our channel runs.
"""
from __future__ import annotations

import functools
import logging
from typing import Any, Dict, Text

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

logger = logging.getLogger(__name__)
# The patch replaces a private method of this Rasa line; tests/unit/test_rasa_internals.py
# records the source of what it replaces, so an upgrade fails the tests, not silently.
SUPPORTED_RASA = "3.6."
REPLACED: Dict[str, Any] = {}  # what apply() replaced, by name (the guard test reads Rasa's own source there)


@functools.lru_cache(maxsize=1)
def _response_validator() -> Any:
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, not on every reply
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    from jsonschema import ValidationError, exceptions

    error = exceptions.best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


class RasaInternalsChanged(RuntimeError):
    """What the speed-up replaces is not what it was written for: re-check it against this Rasa."""


def apply() -> None:
    """Installs the validator built once; refuses on a Rasa it was not written for."""
    if not rasa.__version__.startswith(SUPPORTED_RASA):
        raise RasaInternalsChanged(
            f"bot/rasa_speedups.py patches Rasa {SUPPORTED_RASA}x internals, this is Rasa {rasa.__version__}")
    current = getattr(RemoteAction, "_validate_action_result", None)
    if current is _validate_action_result:
        return  # already applied in this process
    if not callable(current) or not callable(getattr(RemoteAction, "action_response_format_spec", None)):
        raise RasaInternalsChanged(
            "RemoteAction._validate_action_result / action_response_format_spec are gone: "
            "bot/rasa_speedups.py has nothing to replace")
    REPLACED["RemoteAction._validate_action_result"] = current
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]
    logger.info("rasa_speedups: action server replies validated by a validator built once")
