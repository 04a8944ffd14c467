"""Intent classifier: TF-IDF word and character n-grams + calibrated linear SVM.

Why not DIET or Rasa's LogisticRegressionClassifier: on our held-out set
(bench/RESULTS.md) this scikit-learn pipeline generalised better to unseen
wordings in both languages (accent-folded, sub-linear TF-IDF helps with typos
and missing accents), and it trains in seconds on two cores instead of
minutes. Probabilities come from sigmoid calibration, so the
FallbackClassifier threshold keeps its meaning.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import joblib
import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_union
from sklearn.svm import LinearSVC

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)
MODEL_FILE = "intent_pipeline.joblib"


def build_pipeline(config: Dict[Text, Any]) -> Pipeline:
    features = make_union(
        TfidfVectorizer(analyzer="word", ngram_range=(1, config["word_max_ngram"]), strip_accents="unicode",
                        lowercase=True, sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(config["char_min_ngram"], config["char_max_ngram"]),
                        strip_accents="unicode", lowercase=True, sublinear_tf=True, min_df=2),
    )
    classifier = CalibratedClassifierCV(
        LinearSVC(C=config["C"], random_state=config["random_state"]),
        cv=config["calibration_folds"], method="sigmoid",
    )
    return Pipeline([("features", features), ("classifier", classifier)])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(IntentClassifier, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "C": 2.0,
            "word_max_ngram": 2,
            "char_min_ngram": 2,
            "char_max_ngram": 5,
            "calibration_folds": 5,
            "random_state": 42,
            "ranking_length": 10,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn", "joblib"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Rasa reuses a trained component while its config and data are unchanged; the code
        of this module (features, classifier, sentence scoring) is part of it too."""
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 pipeline: Optional[Pipeline] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.pipeline = pipeline

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.warning("LinearIntentClassifier: no intent examples, nothing trained.")
            return self._resource
        texts = [e.get(TEXT) for e in examples]
        labels = np.array([e.get(INTENT) for e in examples])  # sklearn 1.1 calibration needs an array
        self.pipeline = build_pipeline(self.config).fit(texts, labels)
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self.pipeline, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "LinearIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                pipeline = joblib.load(directory / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("LinearIntentClassifier: no trained model found, predictions will be empty.")
            pipeline = None
        return cls(config, model_storage, resource, pipeline)

    def process(self, messages: List[Message]) -> List[Message]:
        if self.pipeline is None:
            return messages
        texts = [message.get(TEXT) or "" for message in messages]
        probabilities = self.pipeline.predict_proba(texts)
        classes = self.pipeline.classes_
        for message, row in zip(messages, probabilities):
            order = np.argsort(-row)[: self.config["ranking_length"]]
            ranking = [{"name": str(classes[i]), "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
