"""Marks messages written in a language the assistant does not answer in.

Runs after the intent classifier: when core/language is confident that a
message is in German, Spanish, Italian, Polish, Dutch or Portuguese, the
intent becomes `other_language` (rule: action_other_language, which answers
in that language and offers an adviser). Without it such messages were read
as French words and got "out of scope", "not understood" or "Entendu".
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.language import is_other_language

OTHER_LANGUAGE_INTENT = "other_language"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class OtherLanguageGate(GraphComponent):
    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "OtherLanguageGate":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/") or not is_other_language(text):
                continue
            top = {"name": OTHER_LANGUAGE_INTENT, "confidence": 1.0}
            ranking = [top] + [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != OTHER_LANGUAGE_INTENT]
            message.set(INTENT, top, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
