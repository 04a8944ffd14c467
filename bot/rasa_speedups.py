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
from typing import Any, Dict, Text

from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


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


def apply() -> None:
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]
