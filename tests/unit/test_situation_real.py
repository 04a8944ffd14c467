"""Situations real askers describe that the reader used to misread (core/situation.py, issue 10 §1).

Each case is written for this file in FR and EN: the kind of sentence real people write, not a
copy of a development-set question.
"""
from __future__ import annotations

import pytest

from core.situation import read_situation


def facts(text: str, language: str) -> dict:
    return {k: v for k, v in read_situation(text, language).as_slots().items() if v}


# --- living abroad, the country unnamed: the care asked about is in France, not "going abroad" ---

@pytest.mark.parametrize("text, language", [
    ("Je suis retraité et je vis à l'étranger depuis dix ans : quand je rentre en France voir un médecin, "
     "qui rembourse ?", "fr"),
    ("We are French pensioners living outside Europe; when we come back to France for a few weeks, how do we "
     "get our doctor's visits refunded?", "en"),
])
def test_living_abroad_and_asking_about_care_in_france(text, language):
    got = facts(text, language)
    assert got["treatment_country"] == "FR" and got["direction"] == "to_france"
    assert got.get("residence_country") != "FR"


@pytest.mark.parametrize("text, language", [
    ("Retraités, nous habitons hors de l'Union européenne : pouvons-nous garder notre carte Vitale ?", "fr"),
    ("Retired French people who live abroad are being asked to give back their carte Vitale: why?", "en"),
])
def test_living_abroad_asking_about_the_carte_vitale_names_no_place_but_means_france(text, language):
    assert facts(text, language)["direction"] == "to_france"


# --- frontier workers: insured where they work, whatever French fund they name --------------------

@pytest.mark.parametrize("text, language, work", [
    ("Frontalière travaillant au Luxembourg, j'habite en Lorraine ; la caisse française me renvoie vers la "
     "caisse luxembourgeoise pour mes soins en France.", "fr", "LU"),
    ("I'm a cross-border commuter working in Germany and living in Alsace; the French fund says my "
     "Krankenkasse must pay for my physio in France.", "en", "DE"),
])
def test_frontier_worker_is_insured_in_the_state_of_work(text, language, work):
    got = facts(text, language)
    assert got["status"] == "frontier_worker"
    assert got["insured_country"] == work and got["residence_country"] == "FR"
    assert got["direction"] == "to_france"  # care in France for someone insured elsewhere, not domestic


def test_frontier_workers_of_a_french_department_live_there():
    assert facts("Les frontaliers de Moselle sont-ils bien remboursés ?", "fr")["residence_country"] == "FR"


# --- pensioners who mention frontier workers; a condition is not a status -------------------------

@pytest.mark.parametrize("text, language", [
    ("Retraités français établis en Belgique, nous voulons savoir si les règles des frontaliers "
     "s'appliquent à nos soins en France.", "fr"),
    ("We are retired and settled in Belgium; do the rules for frontier workers apply to our treatment "
     "in France?", "en"),
])
def test_retired_people_settled_abroad_are_pensioners_not_frontier_workers(text, language):
    got = facts(text, language)
    assert got["status"] == "pensioner_s1" and got["residence_country"] == "BE"


@pytest.mark.parametrize("text, language", [
    ("We moved to France last spring. The S1 office told me S1s are only for pensioners. How do we get "
     "covered?", "en"),
    ("Nous nous sommes installés en France l'an dernier ; on m'a dit que le S1 est réservé aux retraités. "
     "Comment être couverts ?", "fr"),
])
def test_only_for_pensioners_is_a_condition_not_the_askers_status(text, language):
    got = facts(text, language)
    assert got["status"] == "resident" and got["residence_country"] == "FR"


@pytest.mark.parametrize("text, language", [
    ("We are Americans, both retired, and we want to live in France. How do we get health cover?", "en"),
    ("Nous sommes américains, retraités tous les deux, et nous voulons vivre en France. Comment être "
     "couverts ?", "fr"),
])
def test_retirees_from_outside_europe_have_no_s1(text, language):
    assert facts(text, language)["status"] == "resident"


@pytest.mark.parametrize("text, language, residence", [
    ("Can I use my S1 once I move to France?", "en", None),
    ("Je vais m'installer en Espagne avec mon S1, comment faire ?", "fr", "ES"),
])
def test_someone_moving_with_their_s1(text, language, residence):
    got = facts(text, language)
    assert got["status"] == "pensioner_s1" and got.get("residence_country") == residence


# --- whose fact is it ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, language", [
    ("I went to the CPAM with my husband who is French to get our cartes Vitale; we live in Normandy now.", "en"),
    ("Je suis allée à la CPAM avec mon mari, qui est français, pour nos cartes Vitale ; nous habitons en "
     "Bretagne.", "fr"),
])
def test_a_spouse_who_comes_along_is_not_the_subject_nor_the_askers_nationality(text, language):
    got = facts(text, language)
    assert got["requester_role"] == "patient" and "nationality" not in got


@pytest.mark.parametrize("text, language", [
    ("I'm staying at my son's in France and lost my medicines, what do I do?", "en"),
    ("Je suis en vacances chez ma fille en France et j'ai oublié mon traitement.", "fr"),
])
def test_staying_with_family_is_the_askers_own_case(text, language):
    assert facts(text, language)["requester_role"] == "patient"


@pytest.mark.parametrize("text, language", [
    ("I live in France with an S1 from the UK and I also hold an Irish passport: would the hospital here send "
     "the bill to Ireland?", "en"),
    ("Je vis en France avec un S1 britannique et j'ai aussi un passeport irlandais : l'hôpital enverra-t-il "
     "la facture à l'Irlande ?", "fr"),
])
def test_the_country_a_bill_is_sent_to_is_not_the_place_of_care(text, language):
    got = facts(text, language)
    assert got["nationality"] == "IE" and got["insured_country"] == "GB"
    assert "treatment_country" not in got and got["direction"] == "to_france"


@pytest.mark.parametrize("text, language", [
    ("I live in France and I am no longer covered by the UK system. What now?", "en"),
    ("J'habite en France et je ne suis plus assuré au Royaume-Uni. Que faire ?", "fr"),
])
def test_a_cover_denied_is_not_a_cover(text, language):
    got = facts(text, language)
    assert "insured_country" not in got and got["residence_country"] == "FR"


@pytest.mark.parametrize("text, language", [
    ("I'm American, I live in Paris and my only cover is Medicare. How do I see a doctor?", "en"),
    ("Je suis américain, je vis à Lyon et je suis assuré par Medicare seulement. Comment consulter un "
     "médecin ?", "fr"),
])
def test_living_in_france_insured_elsewhere_asks_about_care_in_france(text, language):
    assert facts(text, language)["direction"] == "to_france"


# --- visitors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, language, home", [
    ("Je pars en vacances en Grèce, serai-je couverte par l'Assurance maladie ?", "fr", "FR"),
    ("We own a holiday home in Provence; my NHS cover and a GHIC, is that enough?", "en", "GB"),
])
def test_a_visitor_lives_where_they_are_insured(text, language, home):
    got = facts(text, language)
    assert got["status"] == "tourist" and got["insured_country"] == home and got["residence_country"] == home


@pytest.mark.parametrize("text, language, timing", [
    ("Mon père a fait un malaise dans notre location en Italie, que faire ?", "fr", "unplanned"),
    ("My wife sprained her ankle hiking in the Pyrenees on the Spanish side.", "en", "unplanned"),
    ("Un chirurgien de Bruxelles peut m'opérer plus vite, que faire avant l'opération ?", "fr", "planned"),
    ("A surgeon in Germany can operate on me next month, what do I do before the operation?", "en", "planned"),
])
def test_more_words_for_planned_or_during_a_stay(text, language, timing):
    assert facts(text, language)["care_timing"] == timing


def test_a_document_drawn_up_abroad_is_not_where_someone_lives():
    got = facts("Mon ordonnance a été établie en Suisse, la pharmacie peut-elle la délivrer ?", "fr")
    assert "residence_country" not in got and got["treatment_country"] == "CH"


@pytest.mark.parametrize("text, language", [
    ("I'm planning a visit to my son in Canada this winter; will my French insurance pay if I fall ill there?", "en"),
    ("Je prépare une visite à ma fille au Canada cet hiver : ma carte Vitale me couvrira-t-elle là-bas ?", "fr"),
])
def test_visiting_family_abroad_is_the_askers_own_trip(text, language):
    assert facts(text, language)["requester_role"] == "patient"


def test_border_patients_are_not_frontier_workers():
    # "frontalier" as an adjective of place: patients of the border area, not people working across it.
    got = facts("Les patients frontaliers se font soigner en Belgique : la pharmacie française peut-elle "
                "délivrer une ordonnance belge ?", "fr")
    assert got.get("status") != "frontier_worker"
