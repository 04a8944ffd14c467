"""The custom intent classifier inside Rasa's graph: train, persist, load, predict."""
from __future__ import annotations

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_intent_classifier import LinearIntentClassifier

EXAMPLES = {
    "greet": ["bonjour", "salut", "hello", "hi there", "bonsoir", "good morning", "coucou", "hey"],
    "q_b4_s2_form": ["formulaire s2", "c'est quoi le s2", "what is the S2 form", "how do I get an S2",
                     "s2 pour une opération en belgique", "where do I show my S2", "obtenir le formulaire S2", "S2 form abroad"],
    "q_c1_how_to_claim": ["comment me faire rembourser", "how do I claim back", "formulaire s3125", "remboursement soins espagne",
                          "claim for care in germany", "feuille de soins étrangère", "how to get my money back", "rembourser facture"],
}


def training_data() -> TrainingData:
    return TrainingData([Message.build(text=t, intent=i) for i, texts in EXAMPLES.items() for t in texts])


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name="classifier")


def test_trains_persists_loads_and_ranks(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("classifier")
    config = {"calibration_folds": 3}
    classifier = LinearIntentClassifier.create({**LinearIntentClassifier.get_default_config(), **config}, storage, resource, context())
    classifier.train(training_data())

    loaded = LinearIntentClassifier.load({**LinearIntentClassifier.get_default_config(), **config}, storage, resource, context())
    messages = [Message.build(text="le formulaire S2 c'est quoi ?"), Message.build(text="bonjour !"),
                Message.build(text="how can I claim back what I paid")]
    loaded.process(messages)
    assert [m.get("intent")["name"] for m in messages] == ["q_b4_s2_form", "greet", "q_c1_how_to_claim"]
    ranking = messages[0].get("intent_ranking")
    assert len(ranking) == 3 and ranking[0]["confidence"] >= ranking[1]["confidence"] >= ranking[2]["confidence"]
    assert 0.0 < ranking[0]["confidence"] <= 1.0


def test_untrained_classifier_leaves_messages_alone(tmp_path):
    loaded = LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), LocalModelStorage(tmp_path),
                                         Resource("missing"), context())
    message = Message.build(text="bonjour")
    loaded.process([message])
    assert message.get("intent") is None
