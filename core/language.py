"""Language of a chat message: "fr", "en", or another ISO 639-1 code.

Pure Python (no Rasa import). Why not lingua alone: on chat messages of one to three
words ("ok", "merci", "s2 ?") any statistical detector guesses; a word list of very
frequent FR/EN words is more reliable there, and the previous turn's language is the
best answer when a message has no language at all (numbers, codes, e-mail addresses).
A third language is returned only when lingua is confident: the caller escalates it.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from typing import Optional

# Languages lingua chooses among: our two + the neighbours users most often write in.
DETECTED_LANGUAGES = {"fr": "FRENCH", "en": "ENGLISH", "de": "GERMAN", "es": "SPANISH", "it": "ITALIAN",
                      "pt": "PORTUGUESE", "nl": "DUTCH", "pl": "POLISH"}  # ISO 639-1 -> lingua's name
_LINGUA_LANGS = tuple(DETECTED_LANGUAGES.values())
_DEFAULT = "fr"
_THIRD_MIN_CONFIDENCE = 0.80   # lingua confidence needed to answer a third language
_THIRD_MIN_WORDS = 3           # ... and never on messages shorter than this
_FR_EN_MIN_CONFIDENCE = 0.60   # short messages without a known word

# Very frequent, UNAMBIGUOUS words (accent-folded). Words shared by FR and EN ("a",
# "on", "son", "plus", "date", "question"), too short to be safe ("no"), or left by
# apostrophes in both languages ("s", "d", "m", "t") are left out.
_FR_WORDS = frozenset("""
bonjour bonsoir salut coucou merci oui ouais non je j tu vous nous il elle ils elles
est suis sommes etes sont ai avez avons ont etre avoir fait faire peux peut pouvez
puis voudrais voudrait veux veut souhaite souhaiterais besoin aide aidez les le la des
de du en au aux un une et ou pour avec dans sur pas ne mon ma mes ton ta votre vos notre
leur quoi comment pourquoi quand quel quelle quels quelles qu que qui ce cet cette ces
c ca tres bien beaucoup aussi mais donc car alors si deja encore svp stp merci
rembourse remboursement remboursee remboursees soins soin formulaire carte caisse
prealable autorisation medecin hopital etranger savoir dois doit faut combien ici
accord madame monsieur
""".split())
_EN_WORDS = frozenset("""
hello hi hey thanks thank thx yes yeah please i you we they he she is am are was were
be been have has had do does did can could would should will need want like help
the of and to in for with my your our their what how why when where which who this
that these those it its there here not about from abroad get got know
reimbursed reimbursement refund treatment card form insurance insured hospital doctor
good morning afternoon evening sorry ok
""".split()) - {"ok"}   # "ok" is no language

# Tokens that carry no language: domain acronyms, form names, chat fillers.
_NEUTRAL = frozenset("""
ok okay oki okk ceam ehic ghic cpam cnam cleiss pcn ncp irm mri nir cmu css cnse
ameli sncf lol mdr hmm hum euh ah oh eh ha haha
""".split())

# Our words that the neighbouring languages also use ("in" in German and Dutch, "de"
# in Spanish, Portuguese and Dutch): they do not tell French or English from them.
_SHARED_WITH_NEIGHBOURS = frozenset("""
in en de la le les un une des du a me si se es so no is was die da per con
""".split())

_EMAIL_URL = re.compile(r"\S+@\S+|\bhttps?://\S+|\bwww\.\S+", re.I)
_WORD = re.compile(r"[^\W\d_]+")   # letters only; "s2", "12" are dropped below
_HAS_DIGIT = re.compile(r"\w*\d\w*")

_lock = threading.Lock()
_detector = None


def _get_detector():
    """Build the lingua detector once, on first need (about 1 s of model loading)."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                from lingua import Language, LanguageDetectorBuilder
                langs = [getattr(Language, name) for name in _LINGUA_LANGS]
                _detector = LanguageDetectorBuilder.from_languages(*langs).build()
    return _detector


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def _tokens(text: str) -> list[str]:
    text = _EMAIL_URL.sub(" ", text)
    text = _HAS_DIGIT.sub(" ", text)
    return [t for t in _WORD.findall(_fold(text)) if t not in _NEUTRAL]


def _lingua(text: str) -> dict[str, float]:
    values = _get_detector().compute_language_confidence_values(text)
    return {v.language.iso_code_639_1.name.lower(): v.value for v in values}


def detect_language(text: str, hint: Optional[str] = None,
                    previous: Optional[str] = None) -> str:
    """Language of `text`; `previous` (last turn) then `hint` (UI) when unsure."""
    fallback = previous or hint or _DEFAULT
    tokens = _tokens(text or "")
    if not tokens or sum(map(len, tokens)) < 2:
        return fallback                       # "?", "12", "s2", "CEAM", an address

    fr = sum(t in _FR_WORDS for t in tokens)
    en = sum(t in _EN_WORDS for t in tokens)
    n = len(tokens)

    if n < _THIRD_MIN_WORDS:
        # Short message: a known word decides; else lingua, restricted to fr/en.
        if fr != en:
            return "fr" if fr > en else "en"
        conf = _lingua(" ".join(tokens))
        best = max(("fr", "en"), key=lambda lang: conf.get(lang, 0.0))
        return best if conf.get(best, 0.0) >= _FR_EN_MIN_CONFIDENCE else fallback

    # Many known words: clearly French or English (also when no accents are typed).
    if (fr + en) / n >= 0.4 and fr != en:
        return "fr" if fr > en else "en"

    conf = _lingua(_EMAIL_URL.sub(" ", text))
    top = max(conf, key=conf.get)
    if top not in ("fr", "en"):
        # Third language only if lingua is sure and our own words (not those the
        # neighbours share) barely fired.
        own = sum(t in _FR_WORDS or t in _EN_WORDS for t in tokens if t not in _SHARED_WITH_NEIGHBOURS)
        if conf[top] >= _THIRD_MIN_CONFIDENCE and own / n < 0.25:
            return top
        if fr == en:
            return fallback                   # neither sure nor FR/EN: keep the thread
        return "fr" if fr > en else "en"
    other = "en" if top == "fr" else "fr"
    # Mixed or uncertain FR/EN: let the word lists break a near tie.
    if conf.get(top, 0) - conf.get(other, 0) < 0.2 and fr != en:
        return "fr" if fr > en else "en"
    if conf.get(top, 0) < 0.3 and fr == en:
        return fallback
    return top


def detect_other_language(text: str) -> str:
    """lingua's best guess among our eight languages, without thresholds: for a message the
    intent classifier already took for another language ("Guten Tag", "Buenos días")."""
    conf = _lingua(_EMAIL_URL.sub(" ", text or ""))
    return max(conf, key=conf.get) if conf else _DEFAULT


def is_other_language(text: str) -> bool:
    """True when the message is confidently in a language we do not answer in."""
    return detect_language(text, hint=None, previous=_DEFAULT) not in ("fr", "en")


def warm_up() -> None:
    """Load lingua's models for our languages (call at start-up, optional)."""
    for sample in ("bonjour je voudrais savoir", "hello I would like to know",
                   "Ich möchte wissen", "Quiero saber", "Vorrei sapere",
                   "Gostaria de saber", "Ik wil graag weten", "Chciałbym wiedzieć"):
        _lingua(sample)
