"""Marks the situation terms of a message with spaCy (used by core/situation.py).

French messages go through fr_core_news_sm's tokenizer and lemma table (lookup
mode: conjugated verbs such as "habitons", "pars", "opérée" reach their lemma;
the statistical components are not loaded, for latency), other messages through
a blank English tokenizer. A SpanRuler then marks every term of
content/situation_terms.yml and every country name, alias and nationality of
content/countries.yml. Marks may overlap ("vacances" is a stay cue, a tourist and
an unplanned stay at once); core/situation.py decides what they mean.

Matching ignores case, accents, hyphens and apostrophes: each token's NORM is its
folded form (core/text.fold), and phrase patterns are matched on NORM. Short
acronyms that are also ordinary words ("TK", "CNS", "UK", "Nice") match only in
the capitals written in the content files.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from core.content import load_situation_terms
from core.text import fold

SPANS_KEY = "pcn"
FRENCH_MODEL = "fr_core_news_sm"
_lock = threading.Lock()


@dataclass(frozen=True)
class Mark:
    label: str   # COUNTRY DEMONYM PLACE SCHEME FORM STATUS CARE TIMING CUE CUE_AFTER INSURER NCP ROLE RELATIVE DISTRESS
    id: str      # ISO2, scheme id, form, status, care type, cue type, role…
    start: int   # token index (end exclusive)
    end: int
    sent: int    # sentence index


@dataclass
class Marked:
    """A message's tokens and marks."""
    doc: Doc
    marks: List[Mark]

    def norm(self, i: int) -> str:
        return self.doc[i].norm_ if 0 <= i < len(self.doc) else ""

    def sent_of(self, i: int) -> int:
        return self._sent_index[i]

    def __post_init__(self) -> None:
        self._sent_index = [0] * len(self.doc)
        for number, sent in enumerate(self.doc.sents):
            for i in range(sent.start, sent.end):
                self._sent_index[i] = number


def prepare(text: str) -> str:
    """Same spelling for patterns and messages: straight apostrophes, no hyphens between words."""
    text = re.sub(r"[’‘`´]", "'", text or "")
    return re.sub(r"(?<=\w)[-‐‑](?=\w)", " ", text)


@Language.component("pcn_fold_norm")
def fold_norm(doc: Doc) -> Doc:
    """NORM = the folded word: "Assurée" and "assuree" match the same pattern."""
    for token in doc:
        token.norm_ = fold(token.text) or token.text
    return doc


def _is_exact_acronym(term: str) -> bool:
    """Short capital acronyms that are also words or typos: matched as written only."""
    return bool(re.fullmatch(r"[A-Z&]{2,3}", term))


def _patterns(nlp: Language) -> tuple[list, list, list]:
    """(phrase patterns, token patterns, French lemma patterns) for every term of the content files."""
    from core.countries import _is_abbreviation, load_countries  # same abbreviation rule as find_countries

    terms = load_situation_terms()
    phrase: list = []
    tokens: list = []

    def exact(label: str, ident: str, word: str) -> None:
        pieces = [t.text for t in nlp.make_doc(prepare(word))]
        tokens.append({"label": label, "id": ident, "pattern": [{"ORTH": piece} for piece in pieces]})

    def add(label: str, ident: str, words=(), exact_words=()) -> None:
        for word in words or ():
            word = str(word)
            if label in ("SCHEME", "PLACE") and _is_exact_acronym(word):
                exact(label, ident, word)
            else:
                phrase.append({"label": label, "id": ident, "pattern": prepare(word)})
        for word in exact_words or ():
            exact(label, ident, str(word))

    for record in load_countries():
        iso = record["iso2"]
        for name in list(record["names"].values()) + list(record.get("aliases") or []):
            if _is_abbreviation(name):  # "UK", "U.K.", "USA": capitals only, dots optional
                letters = re.sub(r"[^A-Za-z]", "", name).upper()
                regex = "^" + r"\.?".join(letters) + r"\.?$"
                tokens.append({"label": "COUNTRY", "id": iso, "pattern": [{"TEXT": {"REGEX": regex}}]})
            else:
                phrase.append({"label": "COUNTRY", "id": iso, "pattern": prepare(name)})
        add("COUNTRY", iso, (), record.get("strict_aliases"))
        add("DEMONYM", iso, record.get("demonyms"))
    places = terms.get("places") or {}
    exact_places = set(places.get("exact") or ())
    for iso, words in places.items():
        if iso == "exact":
            continue
        add("PLACE", iso, [w for w in words if w not in exact_places], [w for w in words if w in exact_places])
    for scheme in terms["schemes"]:
        add("SCHEME", scheme["id"], scheme.get("terms"), scheme.get("exact"))
    for form, words in terms["forms"].items():
        add("FORM", form, words)
    for group, label in (("statuses", "STATUS"), ("care_types", "CARE"), ("timing", "TIMING"), ("roles", "ROLE")):
        for ident, words in terms[group].items():
            add(label, ident, words)
    for ident, words in terms["cues"].items():
        add("CUE_AFTER" if ident.startswith("after_") else "CUE", ident, words)
    add("INSURER", "insurer", terms["insurer_nouns"])
    add("NCP", "ncp", terms["ncp_nouns"])
    add("DISTRESS", "distress", terms["distress"]["terms"])
    relatives = terms["relatives"]
    possessives = [fold(p) for p in relatives["possessives"]]
    for noun in relatives["nouns"]:
        words = fold(prepare(noun)).split()
        tokens.append({"label": "RELATIVE", "id": "relative", "pattern": [
            {"NORM": {"IN": possessives}},
            {"NORM": {"IN": ["vieille", "vieux", "elderly", "old", "petit", "petite", "little", "young", "jeune",
                             "chere", "dear", "propre", "own"]}, "OP": "?"},
            *[{"NORM": word} for word in words]]})
    # French lemmas: conjugated verbs the phrase lists cannot all spell out.
    lemma_tokens = [{"label": "CUE", "id": cue, "pattern": [{"LEMMA": {"IN": lemmas}}]}
                    for cue, lemmas in (terms.get("lemmas") or {}).items()]
    return phrase, tokens, lemma_tokens


def _model_lemmas(lemmas: set):
    """fr_core_news_sm's own lemma table (some 200,000 French forms), kept for the verbs the situation
    terms match: "habitons" -> habiter, "pars" -> partir, "opérée" -> opérer."""
    from spacy.lookups import Lookups

    package = spacy.util.get_package_path(FRENCH_MODEL)
    path = next(package.glob("*/lemmatizer/lookups"))
    table = Lookups().from_disk(path).get_table("lemma_lookup")
    kept = Lookups()
    kept.add_table("lemma_lookup", {key: found for key, found in table.items() if found and found[0] in lemmas})
    return kept


def _build(language: str) -> Language:
    if language == "fr":
        # fr_core_news_sm's tokenizer and its lemma table, in lookup mode. Its statistical components
        # (tok2vec, tagger, parser, NER) are not loaded: they cost ~5 ms a message on 2 cores, over the
        # latency budget (bench/RESULTS.md), and the lookup lemmas need no part-of-speech.
        nlp = spacy.load(FRENCH_MODEL, exclude=["tok2vec", "morphologizer", "parser", "attribute_ruler",
                                                "lemmatizer", "ner", "senter"])
    else:
        nlp = spacy.blank("en")
    first = nlp.pipe_names[0] if nlp.pipe_names else None
    nlp.add_pipe("sentencizer", before=first) if first else nlp.add_pipe("sentencizer")
    nlp.add_pipe("pcn_fold_norm", after="sentencizer")
    # The term ruler runs right after folding, before the statistical components,
    # so that its thousands of phrase patterns are prepared quickly.
    terms = nlp.add_pipe("span_ruler", name="pcn_terms", after="pcn_fold_norm",
                         config={"spans_key": SPANS_KEY, "phrase_matcher_attr": "NORM", "overwrite": False})
    phrase, tokens, lemma_tokens = _patterns(nlp)
    terms.add_patterns(phrase + tokens)
    if language == "fr":
        lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"}, last=True)
        lemmatizer.initialize(lookups=_model_lemmas({lemma for verbs in (load_situation_terms().get("lemmas") or {}).values()
                                                     for lemma in verbs}))
        lemmas = nlp.add_pipe("span_ruler", name="pcn_lemmas", last=True,
                              config={"spans_key": SPANS_KEY, "overwrite": False})
        lemmas.add_patterns(lemma_tokens)
    return nlp


@lru_cache(maxsize=None)
def pipeline(language: str) -> Language:
    """The pipeline for "fr" or anything else ("en"); built once per process."""
    with _lock:
        return _build("fr" if language == "fr" else "en")


def mark(text: str, language: Optional[str]) -> Marked:
    nlp = pipeline("fr" if language == "fr" else "en")
    doc = nlp(prepare(text))
    marked = Marked(doc, [])
    spans = doc.spans.get(SPANS_KEY, [])
    marks = sorted({Mark(s.label_, s.id_, s.start, s.end, marked.sent_of(s.start)) for s in spans},
                   key=lambda m: (m.start, -(m.end - m.start), m.label, m.id))  # deterministic order
    marked.marks = marks
    return marked


def warm_up() -> None:
    mark("Je suis assurée en Suède et je vis à Paris.", "fr")
    mark("I am insured in Sweden and live in Paris.", "en")
