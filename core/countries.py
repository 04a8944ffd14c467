"""Country mentions in free text, coverage flags and bilan groups.

Pure Python (no Rasa import). Data: content/countries.yml (staff-editable).
Why not an NLU entity: countries are a reporting field of the bilan, so they must be
found the same way in every message, in French and English, without training data.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Optional

from core.content import load_countries_file, load_coverage_notes, load_vocabularies

# the bilan's origin groups a country can belong to (content/vocabularies.yml; UNKNOWN is no country's)
BILAN_GROUPS = tuple(group for group in load_vocabularies()["origin_groups"] if group != "UNKNOWN")

# Ordinary 2-letter words that are also ISO codes or abbreviations: never an alias,
# whatever the capitalisation ("DE", "IT", "CH" = centre hospitalier...). ("US" is
# allowed: abbreviations only match in capitals, and "us" is then the pronoun.)
FORBIDDEN_ALIASES = {"de", "es", "it", "be", "no", "pl", "en", "fr", "ch", "at", "in",
                     "is", "me", "la", "le", "un", "on", "to", "se", "si", "ma"}


@dataclass(frozen=True)
class CountryMention:
    iso2: str
    role: Optional[str]  # "origin" | "treatment" | None
    start: int           # span in the ORIGINAL text
    end: int
    surface: str


# --------------------------------------------------------------------------- text
_SPECIAL = {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss",
            "'": " ", "’": " ", "‘": " ", "`": " ", "´": " ",
            "-": " ", "‐": " ", "‑": " ", "–": " ", "—": " ", "_": " "}


def fold(text: str) -> tuple[str, list[int]]:
    """Accent-fold, keep case; hyphens/apostrophes -> space.

    Returns the folded text and, for each folded char, its index in the original
    (so that spans found on the folded text map back to the user's text).
    """
    out: list[str] = []
    idx: list[int] = []
    for i, ch in enumerate(text):
        rep = _SPECIAL.get(ch)
        if rep is None:
            rep = "".join(c for c in unicodedata.normalize("NFD", ch)
                          if not unicodedata.combining(c))
        for c in rep:
            out.append(c)
            idx.append(i)
    return "".join(out), idx


def norm(text: str) -> str:
    """Comparison key: folded, lower-case, single spaces."""
    return " ".join(fold(text)[0].lower().split())


# --------------------------------------------------------------------------- data
def _load_file() -> dict:
    return load_countries_file()  # core/content.py is the one reader of content/


def _is_abbreviation(alias: str) -> bool:
    letters = re.sub(r"[^A-Za-z]", "", alias)
    return 0 < len(letters) <= 3


@functools.lru_cache(maxsize=1)
def _data():
    raw = _load_file()
    by_iso: dict[str, dict] = {}
    loose: dict[str, tuple[str, bool]] = {}     # norm alias -> (iso2, is_demonym)
    strict: dict[str, tuple[str, bool]] = {}    # case-sensitive folded alias -> ...
    for c in raw["countries"]:
        iso = c["iso2"]
        if not isinstance(iso, str) or len(iso) != 2 or iso in by_iso:
            raise ValueError(f"countries.yml: bad or duplicate iso2 {iso!r}")
        if c["bilan_group"] not in BILAN_GROUPS:
            raise ValueError(f"countries.yml: {iso}: bad bilan_group {c['bilan_group']!r}")
        by_iso[iso] = c
        entries = [(n, False) for n in c["names"].values()]
        entries += [(a, False) for a in c.get("aliases") or []]
        entries += [(d, True) for d in c.get("demonyms") or []]
        for alias, is_dem in entries:
            key = norm(alias)
            if key in FORBIDDEN_ALIASES:
                raise ValueError(f"countries.yml: {iso}: alias {alias!r} is an ordinary word")
            if _is_abbreviation(alias):
                # 2–3 letters: only in capitals, dots optional ("U.K.", "UK").
                key = re.sub(r"[^A-Za-z]", "", alias).upper()
                target = strict
            else:
                target = loose
            if key in target and target[key][0] != iso:
                raise ValueError(f"countries.yml: alias {alias!r} used by "
                                 f"{target[key][0]} and {iso}")
            target.setdefault(key, (iso, is_dem))
        for alias in c.get("strict_aliases") or []:
            strict[" ".join(fold(alias)[0].split())] = (iso, False)

    def alternation(keys, abbrev):
        parts = []
        for k in sorted(keys, key=len, reverse=True):  # longest first = longest match wins
            if abbrev and k.isalpha() and len(k) <= 3:
                parts.append(r"\.?".join(map(re.escape, k)))
            else:
                parts.append(r"\s+".join(map(re.escape, k.split(" "))))
        return "|".join(parts)

    loose_re = re.compile(r"(?<!\w)(?:" + alternation(loose, False) + r")(?!\w)")
    strict_re = re.compile(r"(?<!\w)(?:" + alternation(strict, True) + r")(?!\w)")
    return by_iso, loose, strict, loose_re, strict_re


def load_countries() -> list[dict]:
    return list(_data()[0].values())


def country(iso2: str) -> dict:
    """Country record (names, aliases, flags, bilan_group). KeyError if unknown."""
    return _data()[0][iso2.upper()]


def iso2_code(code: Optional[str]) -> Optional[str]:
    """An ISO 3166-1 alpha-2 code, upper-case ("UK" is taken as GB); None for none. ValueError otherwise."""
    if code is None or not code.strip():
        return None
    code = code.strip().upper()
    code = "GB" if code == "UK" else code
    if len(code) != 2 or not code.isalpha():
        raise ValueError(f"ISO 3166 alpha-2 country code expected, got {code!r}")
    return code


def bilan_group(iso2: Optional[str]) -> str:
    if not iso2:
        return "UNKNOWN"
    c = _data()[0].get(iso2.upper())
    return c["bilan_group"] if c else "UNKNOWN"


def coverage_note_key(iso2: Optional[str]) -> Optional[str]:
    """Which coverage note applies: CH, GB, EEA_EFTA, THIRD, or None (EU state)."""
    c = _data()[0].get((iso2 or "").upper())
    if c is None:
        return None
    if c["iso2"] in ("CH", "GB"):
        return c["iso2"]
    if c["eea"] and not c["eu"]:
        return "EEA_EFTA"
    if not c["directive"] and not c["regulation"]:
        return "THIRD"
    return None


def coverage_note(key: str, lang: str = "fr", kind: str = "treatment") -> Optional[str]:
    """The note of content/countries.yml for a key (kind: treatment | insurance)."""
    note = load_coverage_notes().get(kind, {}).get(key)
    return note[lang] if note else None


def note_key(iso2: Optional[str], kind: str) -> Optional[str]:
    """The note that speaks for this country: its own (e.g. DK), else its group's (coverage_note_key)."""
    iso2 = (iso2 or "").upper()
    notes = load_coverage_notes().get(kind, {})
    if iso2 in notes:
        return iso2
    key = coverage_note_key(iso2)
    return key if key in notes else None


# --------------------------------------------------------------------------- roles
# Cues are matched on the folded lower-case text (apostrophes and hyphens -> spaces)
# in the same sentence, at most _MAX_GAP words before the mention; the cue nearest
# to the mention wins ("j'habite en Belgique et veux me faire soigner en Allemagne").
_MAX_GAP = 6
_ORIGIN_CUES = [
    r"je\s+suis\s+(?:originaire|natif|native)", r"originaire", r"je\s+viens", r"viens",
    r"j\s+habite", r"habite", r"je\s+vis", r"vivant", r"je\s+reside", r"reside",
    r"residant(?:e)?", r"resident(?:e)?s?", r"domicilie(?:e)?", r"install[ee]+",
    r"assure(?:e)?s?", r"affilie(?:e)?s?", r"ma\s+caisse\s+est", r"caisse",
    r"i\s*m\s+from", r"i\s+am\s+from", r"come\s+from", r"coming\s+from",
    r"i\s+live", r"living", r"lives?", r"insured", r"affiliated", r"resident",
    r"residing", r"based", r"patient", r"citizen\s+of", r"national\s+of",
]
_TREATMENT_CUES = [
    r"soigner", r"soigne(?:e)?", r"soins?", r"operer", r"opere(?:e)?", r"operation",
    r"intervention", r"chirurgie", r"hospitalise(?:e)?", r"hospitalisation",
    r"hopital", r"clinique", r"centre\s+hospitalier", r"medecin", r"dentiste",
    r"consulter", r"consultation", r"traitement", r"accoucher", r"irm",
    r"je\s+vais", r"aller", r"partir", r"pars", r"me\s+rendre", r"sejour(?:ne)?",
    r"vacances", r"voyage", r"en\s+deplacement",
    r"treatment", r"treated", r"surgery", r"operation", r"operated", r"hospital",
    r"clinic", r"doctor", r"dentist", r"care", r"go(?:ing)?", r"travel(?:l?ing)?",
    r"holiday", r"vacation", r"trip", r"stay(?:ing)?",
]
_ORIGIN_RE = re.compile(r"(?<!\w)(?:" + "|".join(_ORIGIN_CUES) + r")(?!\w)")
_TREAT_RE = re.compile(r"(?<!\w)(?:" + "|".join(_TREATMENT_CUES) + r")(?!\w)")
# Demonyms used as adjectives of a place of care ("clinique allemande", "German hospital").
_CARE_NOUN_BEFORE = re.compile(r"(?<!\w)(?:hopital|clinique|medecin|chirurgien|dentiste|"
                               r"etablissement|centre\s+hospitalier|specialiste)s?\s+$")
_CARE_NOUN_AFTER = re.compile(r"^\s+(?:hospitals?|clinics?|doctors?|surgeons?|dentists?|"
                              r"specialists?)\b")
# Demonyms that are also language names: "en anglais", "speak English" are not origins.
_LANG_BEFORE = re.compile(r"(?<!\w)(?:en|in|parle[rsz]?|parlant|speaks?|speaking|langue|"
                          r"language|traduire|traduit|translate[ds]?|translation)\s+$")
_LANG_AFTER = re.compile(r"^\s+(?:speaking|speaker|version|translation|language)\b")
_SENT_END = re.compile(r"[.!?;\n]")


def _role(lower: str, start: int, end: int, is_demonym: bool) -> Optional[str]:
    sent_start = max((m.end() for m in _SENT_END.finditer(lower, 0, start)), default=0)
    before = lower[max(sent_start, start - 80):start]
    after = lower[end:end + 25]
    if is_demonym:
        if _CARE_NOUN_BEFORE.search(before) or _CARE_NOUN_AFTER.search(after):
            return "treatment"
        return "origin"
    best_end, best_role = -1, None
    for role, rx in (("origin", _ORIGIN_RE), ("treatment", _TREAT_RE)):
        for m in rx.finditer(before):
            if len(before[m.end():].split()) <= _MAX_GAP and m.end() > best_end:
                best_end, best_role = m.end(), role
    return best_role


def find_countries(text: str) -> list[CountryMention]:
    """All country mentions, left to right; overlapping shorter mentions dropped."""
    if not text:
        return []
    _, loose, strict, loose_re, strict_re = _data()
    folded, idx = fold(text)
    lower = folded.lower()
    assert len(lower) == len(folded)  # ASCII after folding: lower() keeps offsets
    found = []
    for m in loose_re.finditer(lower):
        iso, dem = loose[" ".join(m.group().split())]
        found.append((m.start(), m.end(), iso, dem))
    for m in strict_re.finditer(folded):
        key = m.group()
        hit = strict.get(" ".join(key.split())) or strict.get(key.replace(".", ""))
        if hit:
            found.append((m.start(), m.end(), hit[0], hit[1]))
    # Longest match wins when spans overlap.
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    mentions: list[CountryMention] = []
    last_end = -1
    for s, e, iso, dem in found:
        if s < last_end:
            continue
        if dem and (_LANG_BEFORE.search(lower[max(0, s - 30):s])
                    or _LANG_AFTER.search(lower[e:e + 25])):
            continue  # a language, not a nationality
        last_end = e
        o_start, o_end = idx[s], idx[e - 1] + 1
        mentions.append(CountryMention(iso, _role(lower, s, e, dem), o_start, o_end,
                                       text[o_start:o_end]))
    return mentions
