"""The staff-edited content and the Rasa data stay consistent and complete."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pytest
import yaml

from core.content import LANGUAGES, ROUTES, load_answers, load_vocabularies
from core.settings import REPO_ROOT

# The 40 question types of ../shared/domain/directive-2011-24.md §2 with their routes
# (BOT→H written BOT_H; where the reference gives "BOT (general) · H for the personal
# case" the assistant answers, and the hand-off comes from the identifiers rule).
REFERENCE_CODES = (
    [f"A{n}" for n in (1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 14)]
    + [f"B{n}" for n in range(1, 11)]
    + [f"C{n}" for n in range(1, 11)]
    + [f"D{n}" for n in range(1, 9)]
)
H_CODES = {"B7", "B8", "B10", "C4", "C8", "C10"}
BOT_H_CODES = {"A12", "A14", "B9", "D6", "D8"}
OFFICIAL_HOSTS = ("cleiss.fr", "europa.eu", "eur-lex.europa.eu", "ameli.fr", "legifrance.gouv.fr", "health.ec.europa.eu",
                  "service-public.fr", "sante.gouv.fr", "has-sante.fr", "orpha.net")
MIN_TRAINING_EXAMPLES = 15


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c)).strip()


def examples(pattern: str):
    """{(intent, language): [examples]} of Rasa NLU files matching pattern."""
    found = {}
    for path in sorted(REPO_ROOT.glob(pattern)):
        language = path.stem.rsplit("_", 1)[-1]
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            lines = [line.strip()[2:] for line in block["examples"].splitlines() if line.strip().startswith("- ")]
            found.setdefault((block["intent"], language), []).extend(lines)
    return found


def test_all_40_question_types_are_there_with_their_routes():
    answers = load_answers()
    assert sorted(answers) == sorted(REFERENCE_CODES)
    for code, qt in answers.items():
        expected_route = "H" if code in H_CODES else "BOT_H" if code in BOT_H_CODES else None
        if expected_route:
            assert qt.route == expected_route, code
        assert qt.route in ROUTES
        assert qt.category == code[0].lower()
        assert qt.category in load_vocabularies()["categories"]


@pytest.mark.parametrize("code", REFERENCE_CODES)
def test_answer_is_complete_in_both_languages(code):
    qt = load_answers()[code]
    for language in LANGUAGES:
        assert qt.title.get(language), (code, language)
        assert qt.legal_basis.get(language), (code, language)
        body = qt.answer[language]
        text = f"{body.short}\n\n{body.details}"
        assert 40 <= len(text.split()) <= 200, (code, language, len(text.split()))
        assert "http" not in text and "<" not in text, "links go in `links`, no markup in answers"
        if qt.offers_agent:
            assert qt.handoff.get(language), (code, language)
    links = [link for language in LANGUAGES for link in qt.links.get(language, [])]
    assert all(qt.links.get(language) for language in LANGUAGES), code
    assert all(link.url.startswith("https://") for link in links), "official pages over https only"
    assert all(any(host in link.url for host in OFFICIAL_HOSTS) for link in links), code
    assert qt.sources, code


def test_answers_name_the_route_they_talk_about():
    """Art. 5(b): never blur the directive and the coordination regulation."""
    for qt in load_answers().values():
        for language in LANGUAGES:
            text = fold(qt.answer[language].short + " " + qt.answer[language].details)
            assert re.search(r"directive|reglement|regulation|s2|ceam|ehic|r\.160|code de la securite|social security code|ncp|pcn|caisse|insurer|cpam", text), (qt.code, language)


def test_no_promise_of_amount_or_delay():
    forbidden = [r"\bvous serez rembourse\b", r"\byou will be reimbursed\b", r"\bwe guarantee\b", r"\bnous garantissons\b"]
    for qt in load_answers().values():
        for language in LANGUAGES:
            text = fold(qt.answer[language].short + " " + qt.answer[language].details)
            for pattern in forbidden:
                assert not re.search(pattern, text), (qt.code, pattern)


def test_every_intent_has_enough_varied_training_examples_in_both_languages():
    training = examples("nlu_data/nlu/*.yml")
    intents = [intent for path in sorted((REPO_ROOT / "domain").rglob("*.yml"))  # the domain Rasa loads
               for intent in yaml.safe_load(path.read_text(encoding="utf-8")).get("intents", [])]
    for intent in intents:
        for language in LANGUAGES if intent != "other_language" else ():  # its examples are in six other languages
            found = training.get((intent, language), [])
            assert len(found) >= MIN_TRAINING_EXAMPLES, (intent, language, len(found))
            assert len({fold(e) for e in found}) == len(found), f"duplicates in {intent}/{language}"


def test_held_out_set_is_large_and_never_trained_on():
    training = {fold(e) for lines in examples("nlu_data/nlu/*.yml").values() for e in lines}
    held_out = examples("tests/nlu/heldout_*.yml")
    total = sum(len(lines) for lines in held_out.values())
    assert total >= 250
    assert {language for _, language in held_out} == set(LANGUAGES)
    leaked = [e for lines in held_out.values() for e in lines if fold(e) in training]
    assert not leaked, leaked[:5]


def test_no_training_example_under_two_intents():
    seen = Counter()
    owner = {}
    for (intent, _), lines in examples("nlu_data/nlu/*.yml").items():
        for line in lines:
            key = fold(line)
            if owner.setdefault(key, intent) != intent:
                seen[key] += 1
    assert not seen, list(seen)[:5]


def test_every_response_has_french_and_english():
    responses = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    for name, variations in responses.items():
        if name == "utter_other_language":  # one bilingual message
            continue
        conditions = [v.get("condition") for v in variations]
        assert None in conditions, f"{name} has no French default"
        assert [{"type": "slot", "name": "language", "value": "en"}] in conditions, f"{name} has no English variation"
