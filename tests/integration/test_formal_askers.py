"""Formal askers end to end (issue 10 §2–4): an elected representative's written question, an
association writing for its members, a pharmacists' union. They are long, third-person and formal,
and they ask about the *substance* (a delay, a refusal, a rule): they get the answer of that question
type, not the institutional hand-off (B10) nor "who is covered" (A2). Who asks is recorded apart (the
requester role). A foreign institution asking the PCN to *do* something (forward a file, check a
status) still gets the hand-off. A real Rasa server, a real action server, a temporary database."""
from __future__ import annotations

import json
import unicodedata
import uuid

import pytest

from tests.integration.test_real_people import logged_questions, payloads, texts

pytestmark = pytest.mark.integration


def new_sender() -> str:
    return "formal-" + uuid.uuid4().hex[:12]


def everything(replies) -> str:
    """Bubbles and the details/sources carried in `custom`, accents folded, lower case."""
    raw = texts(replies) + "\n" + json.dumps([r.get("custom") for r in replies], ensure_ascii=False)
    return "".join(c for c in unicodedata.normalize("NFKD", raw) if not unicodedata.combining(c)).lower()


def ask(desk, sender: str, message: str, language: str) -> list:
    """The reply to a message; when the desk first asks where the asker is insured (the requester
    role was not read from the wording), the asker answers once: in France."""
    replies = desk.send(sender, message, language)
    france = [p for p in payloads(replies) if '"FR"' in str(p)]
    return desk.send(sender, france[0], language) if france else replies


def first_code(desk, sender: str) -> str:
    return logged_questions(desk, sender)[0]["question_code"]


# A written question on reimbursement delays: the claims/delay answer (C4) with the facts of
# situations.md §2 (CNSE for the régime général, the State-of-stay tariff lengthens it, 2 years).
DELAY_FR = (
    "Mme la députée attire l'attention de M. le ministre de la santé sur la situation de nombreux habitants "
    "de sa circonscription qui, ayant dû régler sur place des frais médicaux lors d'un déplacement en "
    "Italie, ont adressé à leur caisse primaire un dossier complet de remboursement. Leur caisse leur indique "
    "que les dossiers sont transmis à un centre national, et plusieurs mois plus tard ils n'ont toujours rien "
    "perçu. Elle lui demande quelles mesures il entend prendre pour raccourcir ces délais de remboursement."
)
DELAY_EN = (
    "I wish to raise with the Minister the case of several of my constituents who paid for medical treatment "
    "while visiting Portugal and sent a complete claim to their French health fund on their return. The fund "
    "told them the files are passed to a national centre, and many months later nothing has been paid. What "
    "steps will the Government take to shorten the time taken to reimburse care received abroad?"
)


@pytest.mark.parametrize("message, language, facts", [
    (DELAY_FR, "fr", ("cnse", "regime general", "pays de sejour", "2 ans")),
    (DELAY_EN, "en", ("cnse", "general scheme", "country-of-stay", "2 years")),
])
def test_a_deputys_question_on_claim_delays_gets_the_claims_delay_answer(desk, message, language, facts):
    sender = new_sender()
    replies = ask(desk, sender, message, language)
    assert first_code(desk, sender) == "C4"
    reply = everything(replies)
    for fact in facts:
        assert fact in reply, fact


# Care outside the EU/EEA/CH: the answer covering it (A3) says only unforeseen care may be refunded,
# as a faculty of the fund, within French tariffs; planned care only exceptionally (situations.md §2).
OUTSIDE_FR = (
    "M. le sénateur interroge Mme la ministre sur la prise en charge des frais de santé engagés hors de "
    "l'Union européenne par des assurés atteints d'une maladie grave qui séjournent plusieurs mois auprès "
    "de leur famille. Ceux-ci se voient opposer un refus de remboursement par leur caisse. Il lui demande "
    "quelles règles s'appliquent à ces soins et comment ces patients peuvent être pris en charge."
)
OUTSIDE_EN = (
    "An association of patients with chronic illnesses writes on behalf of its members who spend several "
    "months a year with family outside the European Union. Several of them have been refused reimbursement "
    "of their treatment there by the French health insurance. Which rules apply to care received outside "
    "Europe, and can such treatment be covered at all?"
)


@pytest.mark.parametrize("message, language, facts", [
    (OUTSIDE_FR, "fr", ("imprevus", "tarifs francais", "faculte", "service medical")),
    (OUTSIDE_EN, "en", ("unplanned care", "french tariffs", "not a right", "medical service")),
])
def test_a_formal_question_on_care_outside_the_eu_gets_the_outside_europe_rules(desk, message, language,
                                                                                  facts):
    sender = new_sender()
    replies = ask(desk, sender, message, language)
    assert first_code(desk, sender) == "A3"
    reply = everything(replies)
    for fact in facts:
        assert fact in reply, fact


# Prior authorisation of an exam across the border: D1, which now says that authorisation cannot be
# refused when the care cannot be had in France within a medically acceptable time (reference §1.0, 8(5)).
IMAGING_FR = (
    "Madame la ministre, je souhaite appeler votre attention sur les patients de ma région frontalière qui "
    "attendent plus d'un mois un examen d'IRM, alors qu'ils pourraient le passer en quelques jours dans une "
    "clinique belge toute proche. Or leur caisse exige une autorisation préalable avant cet examen. "
    "Pouvez-vous préciser dans quels cas cette autorisation est exigée et si elle peut leur être refusée ?"
)
IMAGING_EN = (
    "Written question: patients in the border area of my constituency wait over a month for an MRI scan, "
    "whereas a clinic a few kilometres away in Germany could see them within days. Their health fund still "
    "requires prior authorisation for this examination. Will the Minister say when such authorisation is "
    "required and whether it may be refused?"
)


@pytest.mark.parametrize("message, language, facts", [
    (IMAGING_FR, "fr", ("irm", "2 semaines", "delai medicalement acceptable")),
    (IMAGING_EN, "en", ("mri", "2 weeks", "medically acceptable time")),
])
def test_a_formal_question_on_prior_authorisation_for_an_exam_gets_the_authorisation_rules(desk, message,
                                                                                          language, facts):
    sender = new_sender()
    replies = ask(desk, sender, message, language)
    assert first_code(desk, sender) in {"D1", "D6"}
    reply = everything(replies)
    for fact in facts:
        assert fact in reply, fact


# A foreign institution asking the PCN to act on a file: the institutional hand-off (B10).
INSTITUTION_FR = (
    "Madame, Monsieur, le point de contact national autrichien vous adresse le dossier d'un de nos assurés "
    "soigné à Lyon et vous prie de bien vouloir le faire suivre à la caisse française compétente, puis de "
    "nous indiquer où en est son traitement."
)
INSTITUTION_EN = (
    "Dear colleagues, the Austrian national contact point is sending you the file of one of our insured "
    "persons treated in Lyon and kindly asks you to forward it to the competent French fund and let us know "
    "how it is progressing."
)


@pytest.mark.parametrize("message, language, offer", [
    (INSTITUTION_FR, "fr", "souhaitez-vous être recontacté"),
    (INSTITUTION_EN, "en", "would you like to be contacted"),
])
def test_an_institutions_request_for_action_still_gets_the_hand_off(desk, message, language, offer):
    sender = new_sender()
    replies = ask(desk, sender, message, language)
    assert first_code(desk, sender) == "B10"
    assert offer in texts(replies) or "/request_human" in payloads(replies)
