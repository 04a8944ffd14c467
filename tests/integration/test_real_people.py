"""Real people's messages end to end (issue 10): a real Rasa server, a real action server and a
temporary database. Greeting + question, a long story, distress and a big bill, six other
languages, a domestic French question, and the asker's situation in the tracker."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def new_sender() -> str:
    return "real-" + uuid.uuid4().hex[:12]


def texts(replies) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def payloads(replies) -> list:
    return [b["payload"] for r in replies for b in r.get("buttons") or []]


def logged_questions(desk, sender: str, timeout: float = 15.0) -> list:
    """The enquiry log is written off the reply path: poll until the turn shows up."""
    engine = sa.create_engine(desk.database_url, future=True)

    def rows() -> list:
        with engine.connect() as connection:
            return [dict(r) for r in connection.execute(sa.text(
                "SELECT q.intent, q.question_code, q.outcome, e.language FROM enquiry_questions q "
                "JOIN enquiries e ON e.id = q.enquiry_id WHERE e.conversation_id = :c ORDER BY q.asked_at"),
                {"c": sender}).mappings().all()]
    try:
        return wait_until(rows, timeout, f"the enquiry log of {sender}")
    finally:
        engine.dispose()


def slots(desk, sender: str) -> dict:
    return desk.tracker(sender)["slots"]


@pytest.mark.parametrize("message, language, codes", [
    ("Bonjour, je voudrais savoir si ma carte européenne marche en Suisse pendant mes vacances", "fr", {"B11"}),
    ("Hello. I'm going on holiday to Spain next week, am I covered?", "en", {"B11"}),
])
def test_a_greeting_followed_by_a_question_gets_the_answer(desk, message, language, codes):
    sender = new_sender()
    replies = desk.send(sender, message, language)
    assert "assistant du Point de contact national" not in texts(replies)   # not only the welcome
    assert "assistant of the French National Contact Point" not in texts(replies)
    assert {row["question_code"] for row in logged_questions(desk, sender)} & codes


STORY = (
    "Bonjour madame, monsieur, je me permets de vous écrire car je ne sais plus vers qui me tourner. "
    "J'ai 67 ans et j'ai travaillé toute ma vie en France, d'abord à Lille puis à Bordeaux, et je touche "
    "uniquement une retraite française. Avec mon mari, nous avons acheté il y a trois ans une petite maison "
    "dans l'Algarve, au Portugal, où nous passions jusqu'ici l'hiver. Nos enfants vivent à Paris et à Nantes "
    "et nous rendons visite à nos petits-enfants plusieurs fois par an. Mon mari a eu des problèmes de dos "
    "l'année dernière et a été suivi par un kiné à Faro ; nous avions payé et envoyé les factures à notre caisse, "
    "qui nous a remboursé une partie. Cette année nous voudrions nous installer définitivement au Portugal, "
    "vendre notre appartement et ne revenir en France que pour les fêtes. Nous avons entendu parler d'un "
    "formulaire S1 mais personne ne sait nous dire exactement à quoi il sert ni à qui le demander, et nos "
    "voisins portugais nous disent qu'il faut s'inscrire au centre de santé local. J'ai aussi un traitement "
    "pour la tension que je voudrais continuer, et mon mari doit peut-être se faire opérer du dos. "
    "Comment faire pour rester couverts par l'assurance maladie quand nous vivrons au Portugal, et pourrons-nous "
    "encore nous faire soigner en France quand nous venons voir la famille ? Merci beaucoup pour votre aide, "
    "et pardon pour la longueur de ce message."
)


def test_a_long_story_is_accepted_and_its_question_found(desk):
    assert 1000 < len(STORY) < 5000
    sender = new_sender()
    replies = desk.send(sender, STORY, "fr")
    assert "trop long" not in texts(replies)
    assert logged_questions(desk, sender)[0]["question_code"] == "A15"
    state = slots(desk, sender)
    assert state["status"] == "pensioner_s1" and state["residence_country"] == "PT"
    assert state["insured_country"] == "FR"



# Residence questions that are not about an S1 (A18, A19): the answer names the rule for this asker
# and the next step, and offers an adviser (a personal case). Before these types every residence
# question got the S1-for-pensioners text.
@pytest.mark.parametrize("language, message, code, facts", [
    ("fr", "Bonjour, je suis canadienne et je vis en Ardèche avec mon conjoint depuis cinq mois. Je ne travaille "
           "pas et je n'ai qu'une assurance de voyage. Est-ce que je peux être prise en charge par la sécu ?",
     "A18", ["PUMa", "3 mois", "CPAM", "justificatif de domicile", "nationalité"]),
    ("fr", "Mon frère a 57 ans, il a quitté l'Espagne pour s'installer près de chez nous à Tours, il ne travaille "
           "plus et ne touche encore aucune pension. Comment peut-il avoir l'assurance maladie ?",
     "A18", ["protection universelle maladie", "CPAM", "S1"]),
    ("en", "Hello, I'm a 59-year-old Welsh woman, not retired, and I settled in the Gers last year. How do I get "
           "French state health cover when I can't get an S1?",
     "A18", ["PUMa", "3 months", "CPAM", "proof of residence", "nationality"]),
    ("en", "My partner is from Chile, we've lived together in Lille since the spring and she has no job. "
           "How can she get French health insurance?",
     "A18", ["PUMa", "CPAM", "residence permit"]),
    ("fr", "Bonjour, je suis retraité du régime général et je vis au Paraguay depuis six ans. Mes soins pendant mes "
           "séjours en France sont-ils encore remboursés ?",
     "A19", ["15 ans", "Cnarefe", "carte Vitale", "2 mois"]),
    ("fr", "Ma fille part travailler au Kenya pour une société kényane. Doit-elle garder une assurance en France "
           "ou adhérer à la Caisse des Français de l'étranger ?",
     "A19", ["CFE", "pays de résidence", "convention"]),
    ("en", "Hi, I'm a French pensioner who has lived in Peru for years. The fund refused to pay for my operation "
           "in France last summer. Is that right and can I challenge it?",
     "A19", ["15 years", "Cnarefe", "CRA", "2 months"]),
    ("en", "I'm French and I'm moving to Kenya for a local job. Do I stay covered by French social security "
           "or should I join the CFE?",
     "A19", ["CFE", "country of residence", "bilateral agreement"]),
])
def test_residence_without_an_s1_gets_its_own_answer_and_an_adviser(desk, language, message, code, facts):
    sender = new_sender()
    replies = desk.send(sender, message, language)
    assert logged_questions(desk, sender)[0]["question_code"] == code
    said = texts(replies).lower()
    missing = [fact for fact in facts if fact.lower() not in said]
    assert not missing, (missing, texts(replies))
    assert "/request_human" in payloads(replies)

def test_distress_and_a_big_bill_get_empathy_and_the_offer_of_an_adviser(desk):
    replies = desk.send(new_sender(), "Ma mère est assurée en Suède, elle a été hospitalisée à Nice et l'hôpital "
                                      "nous réclame 14 000 euros. Je ne sais plus quoi faire.", "fr")
    assert "désolé" in texts(replies)
    assert "/request_human" in payloads(replies)


@pytest.mark.parametrize("language, message, phrase", [
    ("de", "Guten Tag, ich bin in Deutschland versichert und brauche eine Behandlung in Frankreich. Wer bezahlt?",
     "Französisch oder Englisch"),
    ("es", "Hola, estoy asegurada en España y mi madre está hospitalizada en Francia. ¿Quién paga la factura?",
     "francés o en inglés"),
    ("it", "Buongiorno, sono assicurato in Italia e vorrei farmi operare in Francia. Serve un'autorizzazione?",
     "francese o in inglese"),
    ("pl", "Dzień dobry, jestem ubezpieczona w NFZ i miałam wypadek we Francji. Kto zapłaci za leczenie?",
     "po francusku lub po angielsku"),
    ("nl", "Goedendag, ik ben verzekerd in Nederland en wil in Frankrijk geopereerd worden. Wat moet ik doen?",
     "Frans of het Engels"),
    ("pt", "Bom dia, estou seguro em Portugal e estou de férias em França. Preciso de ir ao médico, o que faço?",
     "francês ou em inglês"),
])
def test_six_other_languages_get_a_notice_in_their_language_and_an_adviser(desk, language, message, phrase):
    sender = new_sender()
    replies = desk.send(sender, message, "fr")
    assert phrase in texts(replies)
    assert "/request_human" in payloads(replies)
    body = texts(replies)
    assert "Entendu" not in body and "sort du champ" not in body and "pas sûr d'avoir compris" not in body
    rows = logged_questions(desk, sender)
    assert rows and rows[0]["intent"] == "other_language" and rows[0]["language"] == language


@pytest.mark.parametrize("message", [
    "Que veut dire BR sur mon relevé de mutuelle ?",
    "Je suis assurée en France et l'hôpital de Rennes m'envoie une facture de 600 euros, est-ce normal ?",
])
def test_a_domestic_question_is_pointed_to_ameli_3646_and_the_mutuelle(desk, message):
    sender = new_sender()
    replies = desk.send(sender, message, "fr")
    assert "3646" in texts(replies) and "ameli.fr" in texts(replies)
    assert logged_questions(desk, sender)[0]["intent"] == "domestic_question"


def test_the_askers_situation_is_in_the_slots_and_follows_the_conversation(desk):
    sender = new_sender()
    desk.send(sender, "Hi, I'm an NHS patient and I would like to have my knee operation in France.", "en")
    state = slots(desk, sender)
    assert state["insured_country"] == "GB" and state["insurance_scheme"] == "nhs"
    assert state["treatment_country"] == "FR" and state["direction"] == "to_france"
    assert state["origin_country"] == "GB" and state["profile"] == "IND"
    desk.send(sender, "And what if I have it done in Belgium instead?", "en")
    state = slots(desk, sender)
    assert state["insured_country"] == "GB" and state["treatment_country"] == "BE"


@pytest.mark.parametrize("language, question, reply, general_rule", [
    ("fr", "Qui peut bénéficier des soins de santé transfrontaliers ?", "non", "Sans savoir où vous êtes assuré"),
    ("en", "Who is covered by the cross-border healthcare directive?", "no", "Without knowing where you are insured"),
])
def test_no_insurer_in_reply_to_where_are_you_insured_still_gets_the_answer_and_an_adviser(
        desk, language, question, reply, general_rule):
    """A "no" / "I don't know" to the one clarifying question is not a dead end ("anything else?")."""
    sender = new_sender()
    first = desk.send(sender, question, language)
    assert any("insured_country" in p for p in payloads(first)), "A2 depends on the insurer: it is asked first"
    replies = desk.send(sender, reply, language)
    assert general_rule in texts(replies)
    assert "/request_human" in " ".join(payloads(replies)) or "/affirm" in " ".join(payloads(replies))
    assert slots(desk, sender)["last_question_code"] == "A2"
