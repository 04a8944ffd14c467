"""core/language.py: short chat messages, no-accent French, mixed, third languages."""
import time

import pytest

from core.language import detect_language


@pytest.mark.parametrize("text", ["ok", "OK", "s2", "?", "12", "CEAM", "EHIC ?", "S3125",
                                  "jean.dupont@example.org", "   ", "", "!!", "06 12 34 56 78",
                                  "https://www.ameli.fr"])
def test_non_linguistic_input_keeps_previous_then_hint_then_fr(text):
    assert detect_language(text, hint="en", previous="de") == "de"
    assert detect_language(text, hint="en") == "en"
    assert detect_language(text) == "fr"


@pytest.mark.parametrize("text,lang", [
    ("bonjour", "fr"), ("Merci !", "fr"), ("oui", "fr"), ("non merci", "fr"),
    ("hello", "en"), ("thanks", "en"), ("yes", "en"), ("please", "en"), ("Thank you!", "en"),
    ("remboursement", "fr"), ("reimbursement", "en"), ("formulaire s2", "fr"),
])
def test_short_messages_beat_previous_language(text, lang):
    other = "en" if lang == "fr" else "fr"
    assert detect_language(text, previous=other) == lang


@pytest.mark.parametrize("text,lang", [
    ("Je voudrais savoir si mon opération en Allemagne sera remboursée", "fr"),
    ("je voudrais savoir si mon operation est remboursee", "fr"),
    ("est ce que je peux me faire operer en belgique sans autorisation", "fr"),
    ("la secu rembourse ?", "fr"),
    ("cpam veut pas rembourser mes soins", "fr"),
    ("prise en charge dentaire espagne", "fr"),
    ("Autorisation préalable pour une IRM en Allemagne", "fr"),
    ("What is the S2 form?", "en"),
    ("can i use my ehic in spain", "en"),
    ("My mother had surgery in Belgium, how do I get a refund?", "en"),
    ("reimbursment germany", "en"),
    ("Do I need prior authorisation for a hip operation abroad?", "en"),
])
def test_french_and_english_sentences(text, lang):
    other = "en" if lang == "fr" else "fr"
    assert detect_language(text, previous=other, hint=other) == lang


def test_mixed_messages_follow_the_majority():
    assert detect_language("Bonjour, I need help with my S2 form please") == "en"
    assert detect_language("Hello, je voudrais savoir si la CEAM marche en Espagne") == "fr"


@pytest.mark.parametrize("text,lang", [
    ("Ich möchte wissen, ob meine Behandlung in Frankreich erstattet wird", "de"),
    ("Hola, necesito ayuda con la tarjeta sanitaria europea", "es"),
    ("Vorrei sapere se posso farmi curare in Francia", "it"),
    ("Ik wil graag weten of mijn behandeling wordt vergoed", "nl"),
    ("Chciałbym wiedzieć, czy leczenie jest refundowane", "pl"),
])
def test_confident_third_language(text, lang):
    assert detect_language(text, previous="fr") == lang


@pytest.mark.parametrize("text", ["Danke", "Gracias", "Guten Tag", "ciao"])
def test_short_foreign_words_never_escalate(text):
    assert detect_language(text, previous="en") in ("fr", "en")


def test_speed_sanity():
    msgs = ["bonjour", "What is the S2 form?", "je voudrais savoir si mon operation est remboursee",
            "Ich möchte wissen, ob meine Behandlung erstattet wird", "ok"]
    for m in msgs:                      # warm-up: lingua loads its models lazily
        detect_language(m)
    t = time.perf_counter()
    for _ in range(50):
        for m in msgs:
            detect_language(m)
    per_call = (time.perf_counter() - t) / (50 * len(msgs))
    assert per_call < 0.05              # generous sanity bound, not a benchmark
