"""Two rules applied after the intent classifier, where a fact decides better than words.

* Another language: when core/language is confident that a message is in German,
  Spanish, Italian, Polish, Dutch or Portuguese, the intent becomes `other_language`
  (rule: action_other_language, which answers in that language and offers an
  adviser). Without it such messages were read as French words and got "out of
  scope", "not understood" or "Entendu".
* A domestic question has no foreign element: when the classifier says
  `domestic_question` but the message names a country other than France ("je suis
  assuré en Belgique et l'hôpital de Lille m'envoie une facture"), the best question
  type of its ranking is taken instead, and `domestic_question` leaves the ranking (a
  near tie with it would otherwise be "not understood").
* Conversely, a bill or care in France for someone who says they are insured or live
  in France, naming no other country, is a domestic question (reference §1.0) when
  the classifier hesitated between it and a question type on bills in France.
* The country of a prescription: the EU rule on prescriptions (A7, Art. 11 of the
  directive) covers the EU and the EEA only. A prescription question that names a
  country outside them (the United States, Morocco, Switzerland, the UK…) is A17,
  and one that names only EU/EEA countries is A7, whatever the wording leaned to.
* Living abroad: A19 (French people and French pensioners living outside Europe, the CFE)
  is about countries the coordination regulation does not reach. A question the classifier
  put there that names only countries it does reach (EU/EEA, Switzerland, the UK — France
  aside) is the S1 question, A15: a French pensioner in Spain is not "outside Europe".
* A prescription asked by someone living abroad: when a residence type comes first and a
  prescription type second, and the message speaks of a prescription, pharmacy or medicines,
  the prescription type answers (where the person lives is the setting, not the question).
* Residence types are siblings (A15 S1, A18 joining by residence, A19 living outside
  France): when the classifier's two best guesses are two of them, the message is a
  residence question and the best one answers it; their confidences add up, so that a
  near tie between siblings is not "not understood".
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.countries import country, find_countries
from core.language import is_other_language

OTHER_LANGUAGE_INTENT = "other_language"
DOMESTIC_INTENT = "domestic_question"
BILL_IN_FRANCE = "q_c11_bill_in_france_insured_elsewhere"
EU_PRESCRIPTIONS = "q_a7_prescriptions"
NON_EU_PRESCRIPTIONS = "q_a17_prescription_outside_eu"
RESIDENCE_S1 = "q_a15_residence_s1"
LIVING_OUTSIDE_EUROPE = "q_a19_living_outside_france_cfe"
RESIDENCE_TYPES = (RESIDENCE_S1, "q_a18_join_french_system_puma", LIVING_OUTSIDE_EUROPE)
PRESCRIPTION_TYPES = (EU_PRESCRIPTIONS, NON_EU_PRESCRIPTIONS)
_PRESCRIPTION_WORDS = re.compile(r"ordonnance|prescri|pharmac|médicament|medicament|medicine|chemist", re.I)


def prescription_intent(text: str) -> Optional[str]:
    """A7 or A17 from the countries a prescription question names (France aside), else None."""
    named = {m.iso2 for m in find_countries(text)} - {"FR"}
    if not named:
        return None
    outside = [iso for iso in named if not (country(iso).get("eu") or country(iso).get("eea"))]
    return NON_EU_PRESCRIPTIONS if outside else EU_PRESCRIPTIONS


def names_only_regulation_countries(text: str) -> bool:
    """The message names countries besides France, all covered by the coordination regulation
    (EU/EEA, Switzerland, the UK): the S1 applies there, not the rules for living outside Europe."""
    named = {m.iso2 for m in find_countries(text)} - {"FR"}
    return bool(named) and all(country(iso).get("regulation") for iso in named)


def insured_or_living_in_france_only(text: str) -> bool:
    """The message says the person is insured or lives in France and names no other country."""
    mentions = find_countries(text)
    return bool(mentions) and all(m.iso2 == "FR" for m in mentions) and any(m.role == "origin" for m in mentions)


def _set_intent(message: Message, name: str, confidence: float) -> None:
    top = {"name": name, "confidence": confidence}
    ranking = [top] + [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != name]
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


def _merge_into(message: Message, name: str, absorbed: List[str], confidence: float) -> None:
    """`name` on top with `confidence`; the intents whose confidence it took leave the ranking
    (otherwise the fallback would see a tie between the merged intent and its own parts)."""
    _set_intent(message, name, confidence)
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") not in absorbed or r.get("name") == name]
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class IntentRules(GraphComponent):
    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "IntentRules":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue
            if is_other_language(text):
                _set_intent(message, OTHER_LANGUAGE_INTENT, 1.0)
                continue
            intent = message.get(INTENT) or {}
            foreign = bool({m.iso2 for m in find_countries(text)} - {"FR"})
            if intent.get("name") == DOMESTIC_INTENT and foreign:
                topic = next((r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name", "").startswith("q_")),
                             None)
                if topic:
                    _set_intent(message, topic["name"], max(float(topic.get("confidence") or 0.0),
                                                            float(intent.get("confidence") or 0.0)))
                    intent = message.get(INTENT)
            if foreign:
                # Not domestic either as a runner-up: a near tie with it would make the fallback say
                # "not understood" to a question about care in Spain.
                message.set(INTENT_RANKING_KEY, [r for r in message.get(INTENT_RANKING_KEY) or []
                                                 if r.get("name") != DOMESTIC_INTENT], add_to_output=True)
            ranking = message.get(INTENT_RANKING_KEY) or []
            hesitation = {r.get("name"): float(r.get("confidence") or 0.0) for r in ranking[:3]}
            if (DOMESTIC_INTENT in hesitation and BILL_IN_FRANCE in hesitation
                    and insured_or_living_in_france_only(text)):
                _set_intent(message, DOMESTIC_INTENT, hesitation[DOMESTIC_INTENT] + hesitation[BILL_IN_FRANCE])
                continue
            best_two = [r.get("name") for r in ranking[:2]]
            if len(best_two) == 2 and all(name in RESIDENCE_TYPES for name in best_two):
                _merge_into(message, best_two[0], best_two, sum(hesitation[name] for name in best_two))
                intent = message.get(INTENT)
            if (intent.get("name") in RESIDENCE_TYPES and len(best_two) == 2 and best_two[1] in PRESCRIPTION_TYPES
                    and _PRESCRIPTION_WORDS.search(text)):
                # Where the person lives is the setting; the prescription is what is asked.
                _merge_into(message, best_two[1], best_two, sum(hesitation[name] for name in best_two))
                intent = message.get(INTENT)
            if intent.get("name") == LIVING_OUTSIDE_EUROPE and names_only_regulation_countries(text):
                # The two types hesitated over the same person: their confidences add up.
                siblings = [LIVING_OUTSIDE_EUROPE, RESIDENCE_S1]
                _merge_into(message, RESIDENCE_S1, siblings, max(float(intent.get("confidence") or 0.0),
                                                                 sum(hesitation.get(n, 0.0) for n in siblings)))
                continue
            if intent.get("name") in (EU_PRESCRIPTIONS, NON_EU_PRESCRIPTIONS):
                wanted = prescription_intent(text)
                if wanted and wanted != intent["name"]:
                    _set_intent(message, wanted, float(intent.get("confidence") or 0.0))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
