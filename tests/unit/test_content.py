"""The staff-edited content and the Rasa data stay consistent and complete, and every
answer has the shape a patient can act on (issue 9): a first bubble short enough to
read at once, time limits where the law sets one, links in the reader's language."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from actions.answer_text import MAX_FIRST_BUBBLE_WORDS, every_key, render, words
from core.content import (
    CARE_PLACES,
    ELSEWHERE_GROUPS,
    LANGUAGES,
    ROUTES,
    ContentError,
    clear_caches,
    glossary_avoid,
    load_answers,
    load_coverage_notes,
    load_situations,
    load_time_limits,
    load_vocabularies,
)
from core.settings import REPO_ROOT

# The question types of ../shared/domain/directive-2011-24.md §2 with their routes
# (BOT→H written BOT_H; where the reference gives "BOT (general) · H for the personal
# case" the assistant answers, and the hand-off comes from the identifiers rule), and
# the new types of contract C1 (A15–A17, B11, C11), and the residence types of issue 10 (A18 PUMa,
# A19 living outside France).
REFERENCE_CODES = (
    [f"A{n}" for n in (1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)]
    + [f"B{n}" for n in range(1, 12)]
    + [f"C{n}" for n in range(1, 12)]
    + [f"D{n}" for n in range(1, 9)]
)
H_CODES = {"B7", "B8", "B10", "C4", "C8", "C10"}
BOT_H_CODES = {"A12", "A14", "B9", "D6", "D8"}
# Official hosts (a link's host is one of them or a subdomain of one).
OFFICIAL_HOSTS = ("cleiss.fr", "europa.eu", "ameli.fr", "legifrance.gouv.fr", "service-public.fr", "sante.gouv.fr",
                  "has-sante.fr", "sante.fr", "orpha.net", "gov.uk", "nhs.uk", "admin.ch")
# Pages with one language only, whatever their address says.
FRENCH_ONLY_HOSTS = ("ameli.fr", "legifrance.gouv.fr", "has-sante.fr", "sante.gouv.fr", "sante.fr")
# A link to a page in the other language is fine when its label says so.
OTHER_LANGUAGE_LABEL = {"fr": re.compile(r"\(.*en anglais.*\)", re.I), "en": re.compile(r"\(.*in french.*\)", re.I)}

# Time limits a patient needs, from the reference §1.0 (legal review of 6 Dec 2026): each
# is stated in the first bubble (both languages) of the question types where it applies.
TIME_LIMIT_PHRASES = {
    "claim_2y": {"fr": ["2 ans"], "en": ["2 years"]},                           # claim reimbursement (S3125)
    "cra_2m": {"fr": ["2 mois"], "en": ["2 months"]},                           # appeal to the CRA
    "records_8d_2m": {"fr": ["8 jours", "2 mois"], "en": ["8 days", "2 months"]},  # medical record (L.1111-7 CSP)
    "liability_10y": {"fr": ["10 ans"], "en": ["10 years"]},                    # medical liability (L.1142-28 CSP)
    "pa_2w": {"fr": ["2 semaines"], "en": ["2 weeks"]},                         # decision on prior authorisation
}
TIME_LIMITS_BY_CODE = {
    "C1": ["claim_2y"],           # how to claim
    "B3": ["cra_2m"],             # refused authorisation: appeal
    "C8": ["cra_2m"],             # refused claim: appeal
    "A19": ["cra_2m"],            # pensioner abroad refused care in France: appeal
    "A11": ["records_8d_2m"],     # medical records
    "A10": ["liability_10y"],     # harm, complaint
    "B1": ["pa_2w"],              # how to apply for prior authorisation
    "B2": ["pa_2w"],              # decision time limit
}
# Answers that depend on who insures the asker (situations.md §1: rights, reimbursement,
# prior authorisation and appeals are the insurer's).
INSURER_DEPENDENT_AT_LEAST = {"A1", "B1", "B2", "C1", "C2"}
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


def texts_for_insured_elsewhere():
    """(where, language, AnswerText) of every text an asker insured outside France can get."""
    for qt in load_answers().values():
        for language, text in qt.insured_elsewhere.items():
            yield f"{qt.code}.insured_elsewhere", language, text
    for group, places in load_situations().items():
        for place, by_language in places.items():
            for language, text in by_language.items():
                yield f"situations.{group}.{place}", language, text


def every_answer_text():
    for qt in load_answers().values():
        for language, text in qt.answer.items():
            yield f"{qt.code}.answer", language, text
        for case in qt.cases:
            for language, text in case.answer.items():
                yield f"{qt.code}.case.{case.id}", language, text
    yield from texts_for_insured_elsewhere()


# --- the question types ---------------------------------------------------------------

def test_all_question_types_are_there_with_their_routes():
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
        for body in [qt.answer[language]] + ([qt.insured_elsewhere[language]] if qt.insured_elsewhere else []):
            text = f"{body.short}\n\n{body.details}"
            assert "http" not in text and "<" not in text, "links go in `links`, no markup in answers"
        if qt.offers_agent:
            assert qt.handoff.get(language), (code, language)
    assert qt.sources, code


def test_reviewed_is_recorded_for_every_answer():
    missing = [code for code, qt in load_answers().items() if qt.reviewed is None]
    assert not missing, f"no `reviewed: {{on, against}}` for {missing}"


def test_insurer_dependent_where_the_insurer_decides():
    answers = load_answers()
    assert not [code for code in INSURER_DEPENDENT_AT_LEAST if not answers[code].insurer_dependent]


# --- the first bubble -------------------------------------------------------------------

def test_first_bubble_is_short_for_every_type_language_and_variant():
    """Every combination the assistant can say: answer, insured_elsewhere or the generic
    situation text, with each coverage note that can join it."""
    too_long = []
    for qt in load_answers().values():
        for key, description in every_key(qt):
            for language in LANGUAGES:
                rendered = render(key, language)
                if words(rendered.first) > MAX_FIRST_BUBBLE_WORDS:
                    too_long.append((qt.code, language, description, words(rendered.first)))
    assert not too_long, too_long


def test_a_note_too_long_for_the_first_bubble_is_never_hidden_in_the_details():
    for qt in load_answers().values():
        for key, _ in every_key(qt):
            if key.split("|")[2]:
                for language in LANGUAGES:
                    rendered = render(key, language)
                    assert rendered.note or rendered.first.count("\n") >= 1, (key, language)


@pytest.mark.parametrize("code, limits", sorted(TIME_LIMITS_BY_CODE.items()))
def test_time_limits_are_in_the_first_bubble_where_the_law_sets_one(code, limits):
    qt = load_answers()[code]
    for limit in limits:
        assert limit in qt.time_limits, f"{code} does not declare {limit}"
        for language in LANGUAGES:
            for phrase in TIME_LIMIT_PHRASES[limit][language]:
                assert phrase in qt.answer[language].short, (code, language, phrase)


def test_declared_time_limits_are_stated():
    limits = load_time_limits()
    assert set(TIME_LIMIT_PHRASES) <= set(limits)
    for qt in load_answers().values():
        for limit in qt.time_limits:
            for language in LANGUAGES:
                assert limits[limit].phrase[language] in qt.answer[language].short, (qt.code, limit, language)


def test_situation_texts_cover_every_group_and_place():
    situations = load_situations()
    assert set(situations) == set(ELSEWHERE_GROUPS)
    for group in ELSEWHERE_GROUPS:
        for place in CARE_PLACES:
            for language in LANGUAGES:
                text = situations[group][place][language]
                assert 0 < words(text.short) <= MAX_FIRST_BUBBLE_WORDS, (group, place, language)


def test_coverage_notes_are_short():
    notes = load_coverage_notes()
    assert {"CH", "GB", "THIRD"} <= set(notes["treatment"]) and {"CH", "GB", "THIRD"} <= set(notes["insurance"])
    for kind, entries in notes.items():
        for key, texts in entries.items():
            for language in LANGUAGES:
                assert words(texts[language]) <= 25, (kind, key, language, words(texts[language]))


# --- the words -------------------------------------------------------------------------

def test_english_answers_avoid_untranslated_french_terms():
    avoid = glossary_avoid("en")
    assert "caisse" in avoid
    found = []
    for where, language, text in every_answer_text():
        if language != "en":
            continue
        for word in avoid:
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", f"{text.short}\n{text.details}", re.I):
                found.append((where, word))
    for qt in load_answers().values():
        for word in avoid:
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", qt.handoff.get("en", "") + qt.title["en"], re.I):
                found.append((qt.code, word))
    assert not found, found


def test_the_assistants_own_english_sentences_avoid_untranslated_french_terms():
    """domain.yml's English responses (and their buttons) follow the glossary too: "NCP adviser"."""
    domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
    found = []
    for name, variants in domain["responses"].items():
        for variant in variants:
            english = any(c.get("value") == "en" for c in variant.get("condition") or [])
            texts = [variant.get("text") or ""] + [b.get("title", "") for b in variant.get("buttons") or []]
            if not english:
                # Bilingual lines ("… / I can answer in French or English.") count by their English half.
                texts = [part for text in texts for part in text.split(" / ")[1::2]]
            for word in glossary_avoid("en"):
                if any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.I) for text in texts):
                    found.append((name, word))
    assert not found, found


def test_someone_insured_elsewhere_is_never_sent_to_a_french_fund_for_their_own_cover():
    """Only the CEAM case (the CPAM where you were treated) and S1 holders (the CPAM of residence) may be."""
    forbidden = {"fr": re.compile(r"\bvotre (caisse|CPAM)\b", re.I),
                 "en": re.compile(r"\byour (CPAM|fund|French health insurance fund)\b", re.I)}
    found = [(where, language) for where, language, text in texts_for_insured_elsewhere()
             if forbidden[language].search(f"{text.short}\n{text.details}")]
    assert not found, found


def test_handoff_is_one_sentence_that_asks():
    """Contract C1: the hand-off sentence is also the offer (the assistant adds Yes / No)."""
    bad = []
    for qt in load_answers().values():
        for language, sentence in qt.handoff.items():
            inner = sentence.rstrip()[:-1]
            if not sentence.rstrip().endswith("?") or re.search(r"[.!?]\s", inner):
                bad.append((qt.code, language))
    assert not bad, bad


def test_answers_name_the_route_they_talk_about():
    """Art. 5(b): never blur the directive and the coordination regulation."""
    for qt in load_answers().values():
        for language in LANGUAGES:
            text = fold(qt.answer[language].short + " " + qt.answer[language].details)
            assert re.search(r"directive|reglement|regulation|s1|s2|ceam|ehic|r\.160|code de la securite|"
                             r"social security code|ncp|pcn|caisse|insurer|cpam|fund", text), (qt.code, language)


def test_no_promise_of_amount_or_delay():
    forbidden = [r"\bvous serez rembourse\b", r"\byou will be reimbursed\b", r"\bwe guarantee\b", r"\bnous garantissons\b"]
    for where, _language, text in every_answer_text():
        folded = fold(text.short + " " + text.details)
        for pattern in forbidden:
            assert not re.search(pattern, folded), (where, pattern)


# --- links -----------------------------------------------------------------------------

def page_language(url: str) -> str | None:
    """fr | en | None (unknown) from the address of an official page."""
    parsed = urlparse(url)
    host, path = parsed.hostname or "", parsed.path
    query = {k.lower(): v[0].lower() for k, v in parse_qs(parsed.query).items()}
    if query.get("lang") in ("en", "fr"):
        return query["lang"]
    if query.get("langid") in ("en", "fr"):
        return query["langid"]
    if re.search(r"(_|/)(en)(\.html?|/|$)", path) or "/EN/" in path or path.endswith("_en"):
        return "en"
    if re.search(r"(_|/)(fr)(\.html?|/|$)", path) or "/FR/" in path:
        return "fr"
    if any(host == h or host.endswith("." + h) for h in FRENCH_ONLY_HOSTS + ("cleiss.fr", "service-public.fr")):
        return "fr"
    return None


@pytest.mark.parametrize("url, language", [
    ("https://europa.eu/youreurope/citizens/health/planned-healthcare/index_fr.htm", "fr"),
    ("https://europa.eu/youreurope/citizens/health/planned-healthcare/index_en.htm", "en"),
    ("https://www.cleiss.fr/particuliers/venir/soins/ue/litige_en.html", "en"),
    ("https://www.cleiss.fr/docs/directive.html", "fr"),
    ("https://www.service-public.fr/particuliers/vosdroits/F213?lang=en", "en"),
    ("https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=URISERV:sp0002", "en"),
    ("https://ec.europa.eu/social/main.jsp?catId=1021&langId=en", "en"),
    ("https://health.ec.europa.eu/cross-border-healthcare/overview_en", "en"),
    ("https://www.ameli.fr/assure/droits-demarches", "fr"),
    ("https://www.orpha.net/", None),
])
def test_page_language_of_an_address(url, language):
    assert page_language(url) == language


@pytest.mark.parametrize("code", REFERENCE_CODES)
def test_links_are_official_https_pages_in_the_answers_language(code):
    qt = load_answers()[code]
    for language in LANGUAGES:
        links = qt.links.get(language) or []
        assert 1 <= len(links) <= 2, f"{code}: 1 or 2 official pages in {language}, not {len(links)}"
        for link in links:
            parsed = urlparse(link.url)
            host = parsed.hostname or ""
            assert parsed.scheme == "https", link.url
            assert any(host == h or host.endswith("." + h) for h in OFFICIAL_HOSTS), f"{code}: {host} is not official"
            written_in = page_language(link.url)
            assert written_in in (None, language) or OTHER_LANGUAGE_LABEL[language].search(link.label), (
                f"{code}: a {written_in} page for {language} readers without saying so: {link.url}")


# --- the content loader ----------------------------------------------------------------

GOOD_TYPE = """
question_types:
  - code: C1
    category: c
    intent: q_c1_how_to_claim
    route: BOT
    insurer_dependent: true
    title: {fr: "Titre", en: "Title"}
    legal_basis: {fr: "Base", en: "Basis"}
    sources: [S41]
    reviewed: {on: 2026-12-06, against: [R6]}
    time_limits: [claim_2y]
    links:
      fr: [{url: "https://www.ameli.fr/x", label: "ameli"}]
      en: [{url: "https://europa.eu/x/index_en.htm", label: "Your Europe"}]
    answer:
      fr: {short: "Oui. Délai : 2 ans.", details: "Le reste."}
      en: {short: "Yes. Time limit: 2 years.", details: "The rest."}
    insured_elsewhere:
      fr: {short: "Votre assureur décide.", details: ""}
      en: {short: "Your insurer decides.", details: ""}
"""


@pytest.fixture
def content_dir(tmp_path, monkeypatch):
    """A copy of the content folder whose answers the test writes."""
    import shutil

    target = tmp_path / "content"
    shutil.copytree(REPO_ROOT / "content", target)
    for path in (target / "answers").glob("*.yml"):
        path.unlink()
    monkeypatch.setenv("PCN_CONTENT_DIR", str(target))
    clear_caches()
    yield target
    monkeypatch.undo()
    clear_caches()


def test_the_loader_reads_the_whole_schema(content_dir):
    (content_dir / "answers" / "c.yml").write_text(GOOD_TYPE, encoding="utf-8")
    qt = load_answers()["C1"]
    assert qt.insurer_dependent and qt.insured_elsewhere["en"].short == "Your insurer decides."
    assert str(qt.reviewed.on) == "2026-12-06" and qt.reviewed.against == ["R6"]
    assert qt.time_limits == ["claim_2y"] and qt.links["fr"][0].url == "https://www.ameli.fr/x"


@pytest.mark.parametrize("change, message", [
    (("insured_elsewhere:", "insured_elswhere:"), "unknown field(s) ['insured_elswhere']"),
    (('en: {short: "Yes. Time limit: 2 years.", details: "The rest."}', 'en: {details: "The rest."}'),
     "answer.en.short must be a non-empty text"),
    (("time_limits: [claim_2y]", "time_limits: [claim_3y]"), "time_limits: unknown id 'claim_3y'"),
    (('url: "https://www.ameli.fr/x"', 'url: "http://www.ameli.fr/x"'), "links.fr[0].url must be an https address"),
    (("on: 2026-12-06", "on: last week"), "reviewed.on must be a date"),
    (("route: BOT", "route: BOT_H"), "handoff must be a mapping"),
    (("insurer_dependent: true", "insurer_dependent: false"), "insured_elsewhere is only used when insurer_dependent"),
    (("category: c", "category: d"), "does not match the code's prefix"),
    (('fr: {short: "Oui. Délai : 2 ans.", details: "Le reste."}', 'fr: "Oui."'),
     "answer.fr must be {short: ..., details: ...}"),
])
def test_the_loader_names_the_file_the_entry_and_the_field_of_a_problem(content_dir, change, message):
    (content_dir / "answers" / "c.yml").write_text(GOOD_TYPE.replace(*change), encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        load_answers()
    assert "content/answers/c.yml, C1" in str(raised.value)
    assert message in str(raised.value)


CASES = """
    cases:
      - id: living_in_spain
        when: {insured: FR, residence: [EU_EEA, CH]}
        answer:
          fr: {short: "Cas.", details: ""}
          en: {short: "Case.", details: ""}
"""


def test_the_loader_reads_cases_of_a_question_type(content_dir):
    (content_dir / "answers" / "c.yml").write_text(GOOD_TYPE + CASES, encoding="utf-8")
    case = load_answers()["C1"].cases[0]
    assert case.id == "living_in_spain" and case.when == {"insured": ("FR",), "residence": ("EU_EEA", "CH")}
    assert case.answer["en"].short == "Case."


@pytest.mark.parametrize("change, message", [
    (("residence: [EU_EEA, CH]", "residense: [EU_EEA]"), "unknown condition 'residense'"),
    (("residence: [EU_EEA, CH]", "residence: [Spain]"), "residence must be among"),
    (("id: living_in_spain", "id: Living in Spain"), "must be a snake_case name"),
    (('en: {short: "Case.", details: ""}', ""), "answer.en is missing"),
])
def test_the_loader_names_the_problem_of_a_case(content_dir, change, message):
    (content_dir / "answers" / "c.yml").write_text(GOOD_TYPE + CASES.replace(*change), encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        load_answers()
    assert "content/answers/c.yml, C1" in str(raised.value) and message in str(raised.value)


def test_a_case_may_hand_the_question_to_another_type_that_exists(content_dir):
    other = GOOD_TYPE.replace("question_types:", "").replace("code: C1", "code: C2").replace(
        "q_c1_how_to_claim", "q_c2_other")
    same_as = "\n    cases:\n      - id: travelling\n        when: {treatment: abroad}\n        same_as: C2\n"
    (content_dir / "answers" / "c.yml").write_text(GOOD_TYPE + same_as + other, encoding="utf-8")
    assert load_answers()["C1"].cases[0].same_as == "C2"
    clear_caches()
    (content_dir / "answers" / "c.yml").write_text(GOOD_TYPE + same_as.replace("C2", "C9"), encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        load_answers()
    assert "same_as 'C9' must be a question type" in str(raised.value)


def test_the_loader_checks_situations_and_notes(content_dir):
    (content_dir / "situations.yml").write_text("insured_elsewhere:\n  EU_EEA: {}\n  MARS: {}\n", encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        load_situations()
    assert "unknown insurance group(s) ['MARS']" in str(raised.value)
    assert "EU_EEA: care_in_france is missing" in str(raised.value)
    countries = (content_dir / "countries.yml").read_text(encoding="utf-8")
    (content_dir / "countries.yml").write_text(countries.replace("\ninsurance:\n  CH:", "\ninsurance:\n  XX:"),
                                              encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        load_coverage_notes()
    assert "insurance.XX: unknown key" in str(raised.value)


# --- Rasa data -------------------------------------------------------------------------

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
