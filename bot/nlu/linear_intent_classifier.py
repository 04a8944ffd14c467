"""Intent classifier: TF-IDF word and character n-grams + calibrated linear SVM.

Why not DIET or Rasa's LogisticRegressionClassifier: on our held-out set
(bench/RESULTS.md) this scikit-learn pipeline generalised better to unseen
wordings in both languages (accent-folded, sub-linear TF-IDF helps with typos
and missing accents), and it trains in seconds on two cores instead of
minutes. Probabilities come from sigmoid calibration, so the
FallbackClassifier threshold keeps its meaning.

Real messages are not FAQ lines: "Bonjour, je voudrais savoir si…" or a long
story ending with the question. `process` therefore scores the sentences too:
greetings and thanks before or after the question are set aside (the question
is answered, not only the greeting), and in a story of three sentences or more
the question-bearing sentences weigh as much as the whole story.
"""
from __future__ import annotations

import hashlib
import logging
import re
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
SOCIAL_INTENTS = ("greet", "thank", "goodbye")
SOCIAL_MIN_CONFIDENCE = 0.5   # a sentence set aside must clearly be a greeting or thanks
STORY_MIN_SENTENCES = 3       # from here the question sentences get half the weight
TOPIC_PREFIXES = ("q_", "domestic_question")  # intents of a question with a topic
_SENTENCE_END = re.compile(r"(?<=[.!?;\n])\s+|\n+")
_QUESTION = re.compile(
    r"\?\s*$|^(?:comment|est[ -]ce|puis[ -]je|pourquoi|quels?|quelles?|combien|ou|où|faut[ -]il|dois[ -]je|ai[ -]je|"
    r"peut[ -]on|pouvez[ -]vous|how|can|could|do|does|is|am|are|will|what|which|where|who|should|would|may)\b|"
    r"\b(?:je voudrais savoir|j'aimerais savoir|j aimerais savoir|i would like to know|i'd like to know|"
    r"pourriez[ -]vous|could you tell|can you tell)\b", re.I)


def sentences(text: str) -> List[str]:
    """Sentences of a message; a short opening clause before a comma ("Bonjour madame,") is one too."""
    parts = [part.strip() for part in _SENTENCE_END.split(text or "") if part and part.strip()]
    if parts:
        head, comma, tail = parts[0].partition(",")
        if comma and len(head.split()) <= 4 and tail.strip():
            parts = [head.strip(), tail.strip()] + parts[1:]
    return parts


# "Can anyone help please?", "Merci de votre aide !": a call for help, not the question.
_FILLER = re.compile(
    r"^(?:can|could) (?:anyone|anybody|someone|you) help(?: me)?(?: please)?\W*$|^any (?:advice|ideas|help)\W*$|"
    r"^(?:does )?anyone know\W*$|^(?:pouvez|pourriez)[ -]vous m'?aider\W*$|^quelqu'?un (?:peut|pourrait) m'?aider\W*$|"
    r"^que (?:dois[ -]je|faire)\W*$|^what (?:should|can) i do\W*$|^help\W*$|^aidez[ -]moi\W*$", re.I)


def is_question(sentence: str) -> bool:
    sentence = sentence.strip()
    return bool(_QUESTION.search(sentence)) and not _FILLER.search(sentence)


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

    def probabilities(self, text: str) -> np.ndarray:
        """Intent probabilities of a message, its greetings set aside and its question weighed."""
        parts = sentences(text)
        if len(parts) < 2:
            return self.pipeline.predict_proba([text])[0]
        classes = list(self.pipeline.classes_)
        social = {classes.index(name) for name in SOCIAL_INTENTS if name in classes}
        by_sentence = self.pipeline.predict_proba(parts)

        def is_social(i: int) -> bool:
            row = by_sentence[i]
            return int(np.argmax(row)) in social and row.max() >= SOCIAL_MIN_CONFIDENCE

        kept = list(range(len(parts)))
        while len(kept) > 1 and is_social(kept[0]):
            kept.pop(0)
        while len(kept) > 1 and is_social(kept[-1]):
            kept.pop()
        content = [parts[i] for i in kept]
        row = self.pipeline.predict_proba([" ".join(content)])[0]
        if len(content) < len(parts) and not str(classes[int(np.argmax(row))]).startswith(TOPIC_PREFIXES):
            # Nothing but small talk around the greeting ("bonjour, je cherche une info",
            # "merci, c'est tout"): the whole message says it best.
            return self.pipeline.predict_proba([text])[0]
        questions = [part for part in content if is_question(part)]
        if len(content) >= STORY_MIN_SENTENCES and questions:
            asked = self.pipeline.predict_proba([" ".join(questions)])[0]
            # Only a question that names a topic weighs ("Est-ce normal ?" does not).
            if str(classes[int(np.argmax(asked))]).startswith(TOPIC_PREFIXES):
                row = 0.5 * row + 0.5 * asked
        return row

    def process(self, messages: List[Message]) -> List[Message]:
        if self.pipeline is None:
            return messages
        classes = self.pipeline.classes_
        texts = [message.get(TEXT) or "" for message in messages]
        probabilities = self.pipeline.predict_proba(texts)  # one batch; stories are scored again below
        for index, text in enumerate(texts):
            if len(sentences(text)) > 1:
                probabilities[index] = self.probabilities(text)
        for message, row in zip(messages, probabilities):
            order = np.argsort(-row)[: self.config["ranking_length"]]
            ranking = [{"name": str(classes[i]), "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
