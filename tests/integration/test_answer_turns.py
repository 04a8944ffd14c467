"""Answer turns through a real Rasa server and action server (issue 9): one question per
turn at most, the survey only where it is welcome, and answers that fit the asker's
situation — insured in France or elsewhere, care in the UK, Switzerland or a third
country — in French and English."""
from __future__ import annotations


import pytest

from tests.integration.test_conversations import (
    INSURED_IN_FRANCE,
    answer_of,
    ask,
    asks_where_insured,
    new_sender,
    payloads,
    questions_in,
    texts,
    wait_rows,
    widget_data,
)
from actions.answer_text import MAX_FIRST_BUBBLE_WORDS, words
from tests.servers import start_desk

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def desk():
    running = start_desk(web=False, many_people=True)
    yield running
    running.stop()


SURVEY = '/inform{"profile": "IND"}'


def conversation(desk, language: str, messages):
    """Sends each message (answering "Where are you insured?" with France when asked) and returns every turn."""
    sender, turns = new_sender(), []
    for message in messages:
        replies = desk.send(sender, message, language)
        turns.append((message, replies))
        if asks_where_insured(replies):
            turns.append((INSURED_IN_FRANCE, desk.send(sender, INSURED_IN_FRANCE, language)))
    return turns


CONVERSATIONS = [
    ("fr", ["Bonjour", "Comment me faire rembourser des soins payés en Espagne ?", "/feedback_positive",
            '/inform{"profile": "IND"}', '/inform{"country": "FR"}', "Et les lunettes achetées au Portugal ?"]),
    ("fr", ["Où en est ma demande d'autorisation envoyée à ma CPAM il y a un mois ?", "/deny",
            "Quels soins sont exclus de la directive ?", "non"]),
    ("en", ["My child has a rare disease, can he be treated abroad?", "/deny", "What is the S2 form?",
            "/feedback_negative"]),
    ("en", ["How long does the fund have to decide on a prior authorisation?", "yes", "/deny", "thanks"]),
    ("fr", ["urgence mon mari fait un malaise il respire mal", "Comment se faire rembourser des soins en Italie ?",
            "/feedback_positive"]),
]


@pytest.mark.parametrize("language, messages", CONVERSATIONS)
def test_no_turn_asks_two_things(desk, language, messages):
    for message, replies in conversation(desk, language, messages):
        assert len(questions_in(replies)) <= 1, (message, [r.get("text") for r in replies])


def test_the_survey_comes_once_after_a_positive_feedback(desk):
    """The control of the tests below: without trouble, the survey is asked (once)."""
    turns = conversation(desk, "fr", ["Quels soins sont exclus de la directive ?", "/feedback_positive",
                                      "Et la chirurgie esthétique ?", "/feedback_positive"])
    survey_turns = [message for message, replies in turns if SURVEY in payloads(replies)]
    assert survey_turns == ["/feedback_positive"]


@pytest.mark.parametrize("language, trouble", [
    ("fr", ["urgence mon mari fait un malaise il respire mal"]),
    ("en", ["my husband has chest pain and can't breathe"]),
    ("fr", ["Je veux porter plainte contre un hôpital français après une infection", "/deny"]),
    ("fr", ["Où en est ma demande d'autorisation envoyée à ma CPAM il y a un mois ?", "/deny"]),
    ("en", ["I want to talk to an adviser", "/cancel"]),
], ids=["emergency-fr", "emergency-en", "complaint", "hand-off", "escalation"])
def test_the_survey_never_follows_an_emergency_a_complaint_or_a_hand_off(desk, language, trouble):
    question = "Quels soins sont exclus de la directive ?" if language == "fr" else "Which care is excluded?"
    turns = conversation(desk, language, trouble + [question, "/feedback_positive"])
    assert not [message for message, replies in turns if SURVEY in payloads(replies)]
    assert "utile" in texts(turns[-2][1]) or "helpful" in texts(turns[-2][1])  # feedback was asked


# --- answers that fit the situation ----------------------------------------------------

CLAIM = {"fr": "Comment me faire rembourser des soins ?", "en": "How do I get reimbursed for care?"}
BUTTONS = {"france": INSURED_IN_FRANCE, "eu": '/inform{"insurance_group": "EU_EEA"}',
           "uk": '/inform{"insured_country": "GB", "country": "GB"}', "ch": '/inform{"insured_country": "CH", "country": "CH"}',
           "third": '/inform{"insurance_group": "THIRD"}'}
# (question, who insures the asker, language) -> phrases the first bubble must hold / must not hold
SITUATIONS = [
    ("insured in France", CLAIM["fr"], "france", "fr", ["S3125", "2 ans"], []),
    ("insured in France", CLAIM["en"], "france", "en", ["S3125", "2 years"], []),
    ("insured elsewhere (EU)", CLAIM["fr"], "eu", "fr", ["assureur", "point de contact national"], ["votre caisse", "S3125"]),
    ("insured elsewhere (EU)", CLAIM["en"], "eu", "en", ["insurer", "national contact point"], ["your fund", "S3125"]),
    ("insured in the UK, care in France", CLAIM["fr"], "uk", "fr", ["NHS", "2021"], ["votre caisse"]),
    ("insured in the UK, care in France", CLAIM["en"], "uk", "en", ["NHS", "2021"], ["your fund"]),
    ("insured in Switzerland", CLAIM["fr"], "ch", "fr", ["assureur suisse", "S2"], ["votre caisse"]),
    ("insured in Switzerland", CLAIM["en"], "ch", "en", ["Swiss insurer", "S2"], ["your fund"]),
    ("insured in a third country", CLAIM["fr"], "third", "fr", ["convention bilatérale", "cleiss.fr"], ["votre caisse"]),
    ("insured in a third country", CLAIM["en"], "third", "en", ["bilateral convention", "cleiss.fr"], ["your fund"]),
    ("insured in France, care in the UK", "Je suis soigné au Royaume-Uni, comment me faire rembourser ?", "france",
     "fr", ["S3125", "Royaume-Uni : directive non applicable depuis 2021"], []),
    ("insured in France, care in the UK", "I paid a doctor in the United Kingdom, how do I claim it back?", "france",
     "en", ["S3125", "United Kingdom: the directive has not applied since 2021"], []),
    ("insured in France, care in Switzerland", "Comment me faire rembourser une opération en Suisse ?", "france",
     "fr", ["Suisse : pas de directive", "S2"], []),
    ("insured in France, care in Switzerland", "How do I get reimbursed for an operation in Switzerland?", "france",
     "en", ["Switzerland: no directive", "S2"], []),
    ("insured in France, care in a third country", "Comment me faire rembourser des soins payés au Maroc ?", "france",
     "fr", ["Hors Europe : ni CEAM ni directive"], []),
    ("insured in France, care in a third country", "How do I get reimbursed for care I paid in Morocco?", "france",
     "en", ["Outside Europe: no EHIC, no directive"], []),
]


@pytest.mark.parametrize("situation, question, insured, language, present, absent", SITUATIONS,
                         ids=[f"{s[0]}-{s[3]}" for s in SITUATIONS])
def test_the_answer_fits_who_insures_the_asker_and_where_the_care_is(desk, situation, question, insured, language,
                                                                     present, absent):
    sender = new_sender()
    first = desk.send(sender, question, language)
    assert asks_where_insured(first) and len(first) == 1, "one short question first"
    replies = desk.send(sender, BUTTONS[insured], language)
    shown = "\n".join(r.get("text") or "" for r in replies if r.get("text"))
    answer = answer_of(replies)
    assert words(answer["text"]) <= MAX_FIRST_BUBBLE_WORDS
    for phrase in present:
        assert phrase in shown, (situation, phrase, shown)
    for phrase in absent:
        assert phrase not in shown, (situation, phrase, shown)
    assert widget_data(replies)["language"] == language


@pytest.mark.parametrize("language, reply, phrase", [
    ("fr", "En Belgique", "assureur"),
    ("en", "in Germany", "insurer"),
    ("fr", "en France", "S3125"),
])
def test_a_typed_reply_to_where_are_you_insured_is_understood(desk, language, reply, phrase):
    sender = new_sender()
    assert asks_where_insured(desk.send(sender, CLAIM[language], language))
    replies = desk.send(sender, reply, language)
    assert phrase in answer_of(replies)["text"]


def test_the_country_of_insurance_is_asked_once_per_conversation(desk):
    sender = new_sender()
    ask(desk, sender, CLAIM["fr"], "fr", insured=BUTTONS["eu"])
    replies = desk.send(sender, "Et combien vais-je être remboursé ?", "fr")
    assert not asks_where_insured(replies)
    assert "votre caisse" not in answer_of(replies)["text"]


def test_the_reply_to_where_are_you_insured_reaches_the_bilan(desk):

    sender = new_sender()
    ask(desk, sender, CLAIM["en"], "en", insured=BUTTONS["uk"])
    rows = wait_rows(desk, "SELECT origin_country FROM enquiries WHERE conversation_id = :c", {"c": sender},
                     lambda rows: rows and rows[0]["origin_country"])
    assert rows[0]["origin_country"] == "GB"
