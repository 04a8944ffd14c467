"""core/countries.py + content/countries.yml: matching, roles, flags, bilan groups."""
import pytest

from core import countries as C
from core.content import load_countries_file
from core.countries import bilan_group, country, coverage_note_key, find_countries


def isos(text):
    return [m.iso2 for m in find_countries(text)]


def roles(text):
    return [(m.iso2, m.role) for m in find_countries(text)]


# ------------------------------------------------------------------ data file
def test_yaml_has_all_eu_eea_and_enough_third_countries():
    data = load_countries_file()
    by = {c["iso2"]: c for c in data["countries"]}
    eu = set("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())
    assert {k for k, c in by.items() if c["eu"]} == eu
    assert {k for k, c in by.items() if c["eea"] and not c["eu"]} == {"IS", "LI", "NO"}
    assert sum(c["bilan_group"] == "THIRD" for c in by.values()) >= 40
    for c in by.values():
        assert set(c["names"]) == {"fr", "en"}
        assert c["bilan_group"] in C.BILAN_GROUPS


def test_flags_follow_reference_table():
    assert country("CH")["directive"] is False and country("CH")["regulation"] is True
    assert country("GB")["directive"] is False and country("GB")["regulation"] is True
    assert country("NO")["directive"] is True and country("NO")["eu"] is False
    assert country("MA")["directive"] is False and country("MA")["regulation"] is False
    for iso in ("DE", "IS", "LI", "FR"):
        assert country(iso)["directive"] and country(iso)["regulation"]


@pytest.mark.parametrize("iso,group", [
    ("FR", "FR"), ("GB", "UK_BE_DE_ES_PL"), ("BE", "UK_BE_DE_ES_PL"), ("DE", "UK_BE_DE_ES_PL"),
    ("ES", "UK_BE_DE_ES_PL"), ("PL", "UK_BE_DE_ES_PL"), ("IT", "OTHER_EU_EEA"),
    ("NO", "OTHER_EU_EEA"), ("CH", "CH"), ("US", "THIRD"), ("MC", "THIRD"),
    (None, "UNKNOWN"), ("ZZ", "UNKNOWN"), ("gb", "UK_BE_DE_ES_PL"),
])
def test_bilan_group(iso, group):
    assert bilan_group(iso) == group


@pytest.mark.parametrize("iso,key", [
    ("CH", "CH"), ("GB", "GB"), ("IS", "EEA_EFTA"), ("LI", "EEA_EFTA"), ("NO", "EEA_EFTA"),
    ("TR", "THIRD"), ("SN", "THIRD"), ("DE", None), ("FR", None), ("XX", None), (None, None),
])
def test_coverage_note_key(iso, key):
    assert coverage_note_key(iso) == key


def test_coverage_notes_exist_in_both_languages():
    for key in ("CH", "GB", "EEA_EFTA", "THIRD"):
        assert C.coverage_note(key, "fr") and C.coverage_note(key, "en")
    assert "2021" in C.coverage_note("GB", "en")
    assert "S2" in C.coverage_note("CH", "fr")


def test_no_alias_is_an_ordinary_two_letter_word():
    _, loose, strict, *_ = C._data()
    assert not (set(loose) & C.FORBIDDEN_ALIASES)
    assert not ({k.lower() for k in strict} & (C.FORBIDDEN_ALIASES - {"us"}))


# ------------------------------------------------------------------ matching
@pytest.mark.parametrize("text", [
    "Je vis au Royaume-Uni", "je vis au royaume uni", "I live in the UK", "moved from the U.K.",
    "je suis britannique", "Grande-Bretagne", "Angleterre", "I'm from England", "Scotland",
    "pays de galles", "Irlande du Nord", "Great Britain", "British citizen", "GB",
])
def test_united_kingdom_spellings(text):
    assert isos(text) == ["GB"]


@pytest.mark.parametrize("text", ["Grèce", "la grece", "Greece", "je suis grec",
                                  "ma femme est grecque", "Greek hospital"])
def test_greece_is_gr(text):
    assert isos(text) == ["GR"]


@pytest.mark.parametrize("text,iso", [
    ("l'Allemagne", "DE"), ("Deutschland", "DE"), ("pays bas", "NL"), ("Pays-Bas", "NL"),
    ("PAYS BAS", "NL"), ("la Hollande", "NL"), ("NL", "NL"), ("les États-Unis", "US"),
    ("etats unis", "US"), ("USA", "US"), ("the US", "US"), ("Côte d’Ivoire", "CI"),
    ("cote d ivoire", "CI"), ("la Suisse", "CH"), ("Norvège", "NO"),
    ("République tchèque", "CZ"), ("Guadeloupe", "FR"), ("la Réunion", "FR"),
    ("Mayotte", "FR"), ("Saint-Martin", "FR"), ("Guyane", "FR"), ("Türkiye", "TR"),
    ("Corée du Sud", "KR"), ("Bosnie-Herzégovine", "BA"), ("Nouvelle-Zélande", "NZ"),
])
def test_spellings(text, iso):
    assert isos(text) == [iso]


def test_longest_match_wins():
    assert isos("Irlande du Nord") == ["GB"]        # not IE
    assert isos("Republic of Ireland") == ["IE"]
    assert isos("Macédoine du Nord") == ["MK"]


@pytest.mark.parametrize("text", [
    "de la part de mon médecin", "es tu sûr ?", "is it covered?", "be careful",
    "no idea", "pl", "en ligne", "il est au CH de Lille", "tell us more",
    "nous avons une réunion", "pôle emploi", "us", "uk", "gb", "nl", "usa",
    "Je suis au travail", "the fr version",
])
def test_no_false_matches(text):
    assert isos(text) == []


def test_spans_point_into_original_text():
    text = "Bonjour, j'habite en Île-de-France et je vais au Royaume‑Uni."
    ms = find_countries(text)
    assert [x.iso2 for x in ms] == ["FR", "GB"]   # Île-de-France is in France
    m = ms[1]
    assert m.surface == "Royaume‑Uni" and m.role == "treatment"
    assert text[m.start:m.end] == m.surface
    text = "L'Œuvre, Pays-Bas"
    m = find_countries(text)[0]
    assert text[m.start:m.end] == "Pays-Bas"


def test_several_mentions_in_order():
    assert isos("Espagne, Italie ou Portugal ?") == ["ES", "IT", "PT"]


# ------------------------------------------------------------------ roles
@pytest.mark.parametrize("text,expected", [
    ("Je suis belge", [("BE", "origin")]),
    ("je viens de Pologne", [("PL", "origin")]),
    ("J'habite en Espagne", [("ES", "origin")]),
    ("je vis depuis dix ans au Portugal", [("PT", "origin")]),
    ("je suis assurée en Italie", [("IT", "origin")]),
    ("affilié au Luxembourg", [("LU", "origin")]),
    ("I'm from Ireland", [("IE", "origin")]),
    ("I live in Sweden", [("SE", "origin")]),
    ("I'm insured in Austria", [("AT", "origin")]),
    ("resident in Denmark", [("DK", "origin")]),
    ("Je veux me faire opérer en Allemagne", [("DE", "treatment")]),
    ("Je vais en Allemagne pour une IRM", [("DE", "treatment")]),
    ("soins dentaires en Hongrie", [("HU", "treatment")]),
    ("une clinique allemande", [("DE", "treatment")]),
    ("I need surgery in Belgium", [("BE", "treatment")]),
    ("Can I go to Spain for a hip replacement?", [("ES", "treatment")]),
    ("a German hospital", [("DE", "treatment")]),
    ("Espagne", [("ES", None)]),
    ("Quels sont les tarifs en Italie ?", [("IT", None)]),
])
def test_roles(text, expected):
    assert roles(text) == expected


def test_origin_and_treatment_in_one_message():
    assert roles("J'habite en Belgique et je veux me faire soigner aux Pays-Bas") == [
        ("BE", "origin"), ("NL", "treatment")]
    assert roles("I live in the UK and need an operation in France") == [
        ("GB", "origin"), ("FR", "treatment")]
    assert roles("Je suis française, j'habite en Suisse. Je voudrais me faire opérer en Italie.") == [
        ("FR", "origin"), ("CH", "origin"), ("IT", "treatment")]


def test_language_names_are_not_nationalities():
    assert isos("Pouvez-vous répondre en anglais ?") == []
    assert isos("Do you speak English?") == []
    assert isos("Is there a German version of the form?") == []
    assert roles("I am English") == [("GB", "origin")]
