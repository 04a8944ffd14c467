"""The asker's situation read from real people's messages (core/situation.py, contract C2)."""
from __future__ import annotations

import pytest

from core.situation import Situation, derive_direction, read_message, read_situation


def facts(text: str, language: str = "fr", **kwargs) -> dict:
    return {k: v for k, v in read_situation(text, language, **kwargs).as_slots().items() if v}


# --- who insures the person ------------------------------------------------------

def test_nhs_patient_is_insured_in_the_uk_and_comes_to_france():
    got = facts("Hi, I'm an NHS patient and I'd like to have my knee replacement in France. Would the NHS pay?", "en")
    assert got["insured_country"] == "GB" and got["insurance_scheme"] == "nhs"
    assert got["treatment_country"] == "FR" and got["direction"] == "to_france"
    assert got["requester_role"] == "patient" and got["care_type"] == "hospital"


def test_uk_tourist_is_insured_at_home_and_treated_where_on_holiday():
    got = facts("We are UK tourists in Brittany and my husband fell ill, we paid the doctor. Can we get it back?", "en")
    assert got["insured_country"] == "GB" and got["residence_country"] == "GB"
    assert got["treatment_country"] == "FR" and got["direction"] == "to_france"
    assert got["status"] == "tourist" and got["care_timing"] == "unplanned"
    assert got["requester_role"] == "relative"


def test_swedish_insured_mother_is_not_treated_as_insured_in_france():
    got = facts("Ma mère est assurée en Suède (Försäkringskassan), elle a été hospitalisée à Nice "
                "et l'hôpital nous réclame 14 000 euros.")
    assert got["insured_country"] == "SE" and got["treatment_country"] == "FR"
    assert got["direction"] == "to_france" and got["requester_role"] == "relative"


def test_belgian_mutualite_is_the_statutory_belgian_insurer_not_a_french_top_up():
    got = facts("Je suis belge, ma mutualité refuse de me rembourser des séances de kiné faites en France.")
    assert got["insured_country"] == "BE" and got["insurance_scheme"] == "mutualite_be"
    assert got["nationality"] == "BE" and got["care_type"] == "physiotherapy"
    # The French MSA is not the Belgian mutualité: the longest term wins.
    assert facts("Je suis affilié à la mutualité sociale agricole et je vais en Italie")["insured_country"] == "FR"


def test_a_top_up_mutuelle_says_nothing_about_the_country_of_insurance():
    assert "insured_country" not in facts("Ma mutuelle peut-elle compléter le remboursement de soins au Portugal ?")


def test_french_fund_named_as_the_place_to_claim_is_not_the_askers_insurer():
    # An incoming patient is sent to "the CPAM" of the place of care: that is no statement of cover.
    got = facts("I'm insured in Austria. Can I claim back from the CPAM what I paid a doctor in Lyon?", "en")
    assert got["insured_country"] == "AT"
    assert facts("Bonjour, je suis assurée à la CPAM du Rhône et je veux des implants en Hongrie")["insured_country"] == "FR"


def test_us_citizen_insured_in_france_going_to_norway():
    got = facts("I'm a US citizen insured in France and I'm going to Norway next month. Does my CEAM work there?", "en")
    assert got["nationality"] == "US"           # a nationality, never a place of care
    assert got["insured_country"] == "FR" and got["treatment_country"] == "NO"
    assert got["direction"] == "abroad"


def test_pensioner_with_an_s1_moving_to_portugal():
    got = facts("I'm retired and moving to Portugal next year with my S1 from France. How does healthcare work?", "en")
    assert got["status"] == "pensioner_s1"
    assert got["residence_country"] == "PT" and got["insured_country"] == "FR"
    fr = facts("Je suis retraitée, je touche uniquement une retraite française et je vais m'installer en Espagne.")
    assert fr["status"] == "pensioner_s1" and fr["insured_country"] == "FR" and fr["residence_country"] == "ES"


def test_frontier_worker_is_insured_where_they_work():
    got = facts("je suis frontalier, je travaille au Luxembourg et j habite en France, ou puis-je me faire soigner ?")
    assert got["status"] == "frontier_worker"
    assert got["insured_country"] == "LU" and got["residence_country"] == "FR"
    en = facts("I work in Luxembourg and live in Belgium, can I see a doctor in France near the border?", "en")
    assert en["status"] == "frontier_worker" and en["insured_country"] == "LU"


def test_posted_worker_stays_insured_by_the_employers_country():
    got = facts("Je suis salarié détaché en Allemagne par mon employeur français pour 18 mois, ma femme est enceinte.")
    assert got["status"] == "posted_worker" and got["insured_country"] == "FR"
    assert got["care_type"] == "maternity"


def test_student_and_tourist_statuses():
    assert facts("Je suis étudiante Erasmus en Espagne, je dois aller chez le dentiste")["status"] == "student"
    got = facts("Going on holiday to Spain, am I covered?", "en")
    assert got == {"requester_role": "patient", "treatment_country": "ES", "direction": "abroad",
                   "care_timing": "unplanned", "status": "tourist"}


@pytest.mark.parametrize("text, language, timing", [
    ("Je voudrais me faire opérer de la hanche en Belgique, il y a moins d'attente", "fr", "planned"),
    ("Mon fils s'est cassé le bras pendant les vacances en Italie", "fr", "unplanned"),
    ("I need an S2 for my surgery in Germany", "en", "planned"),
    ("I fell ill on holiday in Croatia and paid the doctor", "en", "unplanned"),
])
def test_planned_or_during_a_stay(text, language, timing):
    assert facts(text, language)["care_timing"] == timing


def test_care_type_prefers_the_most_specific():
    assert facts("Je suis dialysée, séances à l'hôpital pendant un séjour au Portugal")["care_type"] == "dialysis"
    assert facts("I want a dental implant in Hungary", "en")["care_type"] == "dental"


def test_nationality_as_a_language_is_not_a_country():
    assert "nationality" not in facts("Can you answer in English please? I have a question about care in Spain", "en")


def test_demonym_next_to_a_care_word_is_the_country_of_care():
    assert facts("Mon médecin américain m'a fait une ordonnance, puis-je l'utiliser en France ?")["treatment_country"] == "US"
    assert facts("Can I have my operation in a German clinic?", "en")["treatment_country"] == "DE"


# --- the conversation -----------------------------------------------------------

def test_facts_merge_with_what_the_conversation_knows():
    first = read_situation("Je suis assurée en Belgique.", "fr")
    second = read_situation("Et si je me fais opérer à Lille ?", "fr", previous=first)
    assert second.insured_country == "BE" and second.treatment_country == "FR"
    assert second.direction == "to_france"  # recomputed from the merged facts


def test_a_typed_country_answers_the_insurance_question():
    assert read_situation("Belgique", "fr", asked_fact="insured_country").insured_country == "BE"
    assert read_situation("la CPAM", "fr", asked_fact="insured_country").insured_country == "FR"
    assert read_situation("NHS", "en", asked_fact="insured_country").insured_country == "GB"
    # Without the question, a bare country says nothing about insurance.
    assert read_situation("Belgique", "fr").insured_country is None


def test_button_payloads_and_empty_messages_say_nothing():
    assert read_message('/inform{"country": "BE"}', "fr").situation == Situation()
    assert read_message("   ", "fr").situation == Situation()


def test_direction_from_the_facts():
    assert derive_direction(Situation(insured_country="FR", treatment_country="FR")) == "domestic"
    assert derive_direction(Situation(insured_country="DE", treatment_country="FR")) == "to_france"
    assert derive_direction(Situation(insured_country="FR", treatment_country="ES")) == "abroad"
    assert derive_direction(Situation(treatment_country="ES")) == "abroad"
    assert derive_direction(Situation(treatment_country="FR")) is None


# --- distress ----------------------------------------------------------------------

@pytest.mark.parametrize("text, language", [
    ("Je ne sais plus quoi faire, l'hôpital nous demande de l'argent", "fr"),
    ("The hospital in Lyon sent a bill of 25,000 euros", "en"),
    ("On nous réclame 14 000 € avant la sortie", "fr"),
    ("facture de 8.500 euros pour deux jours", "fr"),
])
def test_distress_or_a_big_bill_is_noticed(text, language):
    assert read_message(text, language).distress


@pytest.mark.parametrize("text", ["J'ai payé 80 euros chez le médecin", "Une consultation à 25 €, remboursée ?"])
def test_an_ordinary_amount_is_not_distress(text):
    assert not read_message(text, "fr").distress


def test_the_staff_edited_terms_are_consistent():
    from core.content import load_situation_terms
    from core.countries import country
    from core.content import STATUSES
    from core.situation import CARE_TYPES, REQUESTER_ROLES

    terms = load_situation_terms()
    for scheme in terms["schemes"]:
        assert scheme["terms"], scheme["id"]
        if scheme.get("country"):
            country(scheme["country"])  # KeyError: not in countries.yml
    assert set(terms["roles"]) <= set(REQUESTER_ROLES) | {"other"}
    assert set(terms["care_types"]) <= set(CARE_TYPES)
    assert set(terms["statuses"]) <= set(STATUSES) | {"pensioner"}
    assert set(terms["timing"]) == {"planned", "unplanned"}
    for iso in terms["places"]:
        if iso != "exact":
            country(iso)
