"""Find and redact personal identifiers in chat messages (FR/EN).

Pure Python (no Rasa import). Why: the desk keeps transcripts for analytics, and users
type their NIR, phone, e-mail, name or address in free text although we never ask for
them (desk-anchors.md, privacy section: "redact free text before analytics").

Pattern rules (fast, used on every turn by contains_identifier) cover NIR, IBAN, PHONE,
EMAIL, NUMBER, ADDRESS, BIRTHDATE and explicit name introductions; spaCy's French NER
(loaded once, lazily, NER only) adds other person names. Country names and healthcare
words are never redacted: countries are a reporting field of the bilan.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass

PLACEHOLDERS = {
    "NIR": "[NIR]", "PHONE": "[PHONE]", "IBAN": "[IBAN]", "EMAIL": "[EMAIL]",
    "NUMBER": "[NUMBER]", "PERSON": "[PERSON]", "ADDRESS": "[ADDRESS]",
    "BIRTHDATE": "[DATE]",
}
# When two findings overlap and start at the same place with the same length,
# the more specific kind wins.
_PRIORITY = ["EMAIL", "IBAN", "NIR", "PHONE", "ADDRESS", "BIRTHDATE", "NUMBER", "PERSON"]


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


# ------------------------------------------------------------------ patterns
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

# IBAN: country code, 2 check digits, 11–30 alphanumerics, optionally in groups of 4.
# Upper case only: "FR76 … for the refund" must not swallow the following words.
_IBAN = re.compile(r"(?<!\w)[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?!\w)")

# NIR: sex(1), year(2), month(2), department(2 or 2A/2B), commune(3), order(3), key(2).
# Digits may be grouped with spaces or dots, as printed on the carte Vitale.
_NIR = re.compile(
    r"(?<![\w+])[1-478][ .]?\d{2}[ .]?\d{2}[ .]?(?:\d{2}|2[AB])[ .]?\d{3}[ .]?\d{3}"
    r"(?:[ .]?\d{2})?(?![\w])", re.I)

_PHONE_FR = re.compile(r"(?<![\w+])(?:(?:\+|00)33[ .-]?(?:\(0\)[ .-]?)?|0)[1-9]"
                       r"(?:[ .-]?\d{2}){4}(?!\d)")
_PHONE_INTL = re.compile(r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[ .-]?\(0\))?"
                         r"(?:[ .-]?\d){6,13}(?!\d)")

# Other runs of >= 6 digits (dossier, claim, card numbers), single separators allowed.
_NUMBER = re.compile(r"(?<![\w+])\d(?:[ .-]?\d){5,}(?![\w])")
_AMOUNT_AFTER = re.compile(r"^\s?(?:€|eur\b|euros?\b|\$|£|chf\b|dollars?\b|pounds?\b)", re.I)
_DATE_SHAPE = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")

_STREET_FR = (r"rue|avenue|av\.|bd|boulevard|place|all[ée]e|chemin|impasse|route|quai|"
              r"cours|square|passage|faubourg|r[ée]sidence|lotissement|lieu[- ]dit|"
              r"rond[- ]point|voie|villa|cit[ée]")
_ADDRESS_FR = re.compile(
    r"(?<!\w)\d{1,4}(?:\s?(?:bis|ter|[a-d]))?,?\s+(?:" + _STREET_FR + r")\s+"
    # street name: up to 6 words, stopping at punctuation or a clause word
    r"(?:(?!(?:et|à|a|pour|je|j|mais|and|in|at|for|depuis|dans|en)\b)[\w'’.-]+\s?){1,6}"
    r"(?:,?\s*\d{5}(?:\s+[A-ZÀ-Ý][\w'’-]+)?)?", re.I)
_STREET_EN = (r"Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Close|Way|Place|Square|"
              r"Court|Crescent|Terrace|Gardens|Boulevard|Blvd|Row|Hill|Mews")
_ADDRESS_EN = re.compile(
    r"(?<!\w)\d{1,5}[a-z]?,?\s+(?:[A-Z][\w'’-]*\s+){1,3}(?:" + _STREET_EN + r")\b\.?"
    r"(?:,?\s*[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})?")   # optional UK postcode

_MONTHS = (r"janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|"
           r"novembre|d[ée]cembre|january|february|march|april|may|june|july|august|"
           r"september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|"
           r"oct|nov|dec")
_DATE = (r"(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2}"
         r"|\d{1,2}(?:er|st|nd|rd|th)?\s+(?:of\s+)?(?:" + _MONTHS + r")\.?\s+\d{4}"
         r"|(?:" + _MONTHS + r")\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})")
_BIRTH = re.compile(
    r"(?:\bn[ée]e?s?\s+le|\bdate\s+de\s+naissance\s*:?|\bborn\s+(?:on\s+)?(?:the\s+)?|"
    r"\bdate\s+of\s+birth\s*:?|\bDOB\s*:?|\bbirth\s*date\s*:?)\s*(" + _DATE + r")", re.I)

# Person names introduced explicitly. Name words: capitalised, or any word after an
# explicit introduction ("je m'appelle marie dupont"): users often type in lower case.
_NAME_WORD = r"[A-ZÀ-Ýa-zà-ÿ][A-Za-zÀ-ÿ'’-]*"
_CAP_WORD = r"[A-ZÀ-Ý][A-Za-zÀ-ÿ'’-]*"
_INTRO = re.compile(
    r"(?:\bje\s+m['’\s]?appelle|\bmon\s+nom\s+(?:est|c['’]est)|\bmoi\s+c['’]est|"
    r"\bmy\s+name\s+is|\bmy\s+name['’]s|\bname\s*:|\bnom\s*:)\s+"
    r"(" + _NAME_WORD + r"(?:\s+" + _NAME_WORD + r"){0,2})", re.I)
_I_AM = re.compile(r"\b(?i:I\s+am|I['’]m|je\s+suis)\s+(" + _CAP_WORD + r"(?:\s+" + _CAP_WORD
                   + r"){1,2})")
_TITLE = re.compile(r"(?<!\w)(?:M\.|Mme\.?|Mlle\.?|Monsieur|Madame|Mademoiselle|Mr\.?|"
                    r"Mrs\.?|Ms\.?|Miss|Dr\.?|Docteur|Doctor|Pr\.?|Professeur|Maître|Me\.)"
                    r"\s+(" + _CAP_WORD + r"(?:\s+" + _CAP_WORD + r"){0,2})")

# Words that end a name or are never one (checked lower-case, accents kept).
_STOP = frozenset("""
et and je j i mais but a à de du des la le les en in from of to for the pour avec with
qui who que that est is suis am not pas ne ai have has was été merci thanks bonjour
hello hi hey bonsoir salut madame monsieur dear sir madam cher chère thank please svp stp oui
yes non no ok okay help aide question questions urgent
cpam cnam ceam ehic ghic cleiss ncp pcn s1 s2 s3125 e112 nir ameli vitale carte card
sécurité securite sociale social security assurance maladie mutuelle caisse health
insurance europe européenne europeenne european union ue eu eee eea brexit schengen
hôpital hopital hospital clinique clinic chu ch centre center institut institute
irm mri scanner docteur doctor dr médecin medecin m mr mrs ms mme mlle miss pr me
janvier février fevrier mars avril mai juin juillet août aout septembre octobre
novembre décembre decembre january february march april may june july august
september october november december lundi mardi mercredi jeudi vendredi samedi
dimanche monday tuesday wednesday thursday friday saturday sunday
what how why when where which can could would should do does is are may might
""".split())
# Words after which a capitalised word is a hospital/place name, kept on purpose.
_PLACE_BEFORE = re.compile(r"(?:h[ôo]pital|hospital|clinique|clinic|polyclinique|chu|"
                           r"ch|centre|center|institut|institute|fondation|maison|"
                           r"saint|sainte|st|ste|rue|avenue|boulevard|place|cpam|caisse)"
                           r"(?:\s+(?:de|du|des|la|le|l['’]|d['’]))?"
                           r"(?-i:(?:\s*[A-ZÀ-Ý][\w'’-]*){0,3})\s*$", re.I)   # "Hôpital Européen …"


def _nir_ok(raw: str) -> bool:
    s = re.sub(r"[ .]", "", raw).upper()
    if len(s) != 15:
        return False
    body = s[:13].replace("2A", "19").replace("2B", "18")   # Corsica: official rule
    return body.isdigit() and int(s[13:]) == 97 - int(body) % 97


def _iban_ok(raw: str) -> bool:
    s = raw.replace(" ", "").upper()
    if not (15 <= len(s) <= 34):
        return False
    moved = s[4:] + s[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return int(digits) % 97 == 1


def _countries(text: str) -> list[tuple[int, int]]:
    from core.countries import find_countries

    return [(m.start, m.end) for m in find_countries(text)]


def _name_span(text: str, start: int, end: int, countries) -> list[tuple[int, int]]:
    """Trim a candidate name to its name words; drop stop words and country words."""
    spans: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []
    for m in re.finditer(r"[^\s,;:!?()\"]+", text[start:end]):
        s, e = start + m.start(), start + m.end()
        word = m.group().strip(".'’")
        bad = (word.lower() in _STOP or not word[:1].isalpha()
               or any(cs < e and s < ce for cs, ce in countries))
        if bad:
            if run:
                spans.append((run[0][0], run[-1][1]))
            run = []
            if word.lower() in _STOP and word[:1].islower():
                break   # a clause word ends the name
            continue
        run.append((s, s + len(m.group().rstrip(".'’"))))
    if run:
        spans.append((run[0][0], run[-1][1]))
    return spans


def _pattern_findings(text: str, countries) -> list[Finding]:
    found: list[Finding] = []
    add = found.append
    for m in _EMAIL.finditer(text):
        add(Finding("EMAIL", m.start(), m.end()))
    for m in _IBAN.finditer(text):
        raw = m.group()
        if not any(ch.isdigit() for ch in raw[4:]):
            continue
        # The pattern may overrun into a following capitalised word: trim until valid.
        cut = raw
        while " " in cut and not _iban_ok(cut):
            cut = cut.rsplit(" ", 1)[0]
        if _iban_ok(cut):
            add(Finding("IBAN", m.start(), m.start() + len(cut)))
        else:
            add(Finding("NUMBER", m.start(), m.end()))
    for m in _NIR.finditer(text):
        # A valid key makes it a NIR; 13–15 digits without a valid key are a NUMBER.
        add(Finding("NIR" if _nir_ok(m.group()) else "NUMBER", m.start(), m.end()))
    for rx in (_PHONE_FR, _PHONE_INTL):
        for m in rx.finditer(text):
            n_digits = sum(c.isdigit() for c in m.group())
            if 8 <= n_digits <= 15:
                add(Finding("PHONE", m.start(), m.end()))
    for m in _NUMBER.finditer(text):
        if _DATE_SHAPE.match(m.group()) or _AMOUNT_AFTER.match(text[m.end():]):
            continue    # dates and amounts are not identifiers
        add(Finding("NUMBER", m.start(), m.end()))
    for rx in (_ADDRESS_FR, _ADDRESS_EN):
        for m in rx.finditer(text):
            add(Finding("ADDRESS", m.start(), m.end() - (len(m.group()) -
                                                          len(m.group().rstrip()))))
    for m in _BIRTH.finditer(text):
        add(Finding("BIRTHDATE", m.start(1), m.end(1)))
    for rx in (_INTRO, _TITLE, _I_AM):
        for m in rx.finditer(text):
            for s, e in _name_span(text, m.start(1), m.end(1), countries):
                add(Finding("PERSON", s, e))
    return found


# ------------------------------------------------------------------ spaCy NER
_nlp = None
_lock = threading.Lock()


def _get_nlp():
    """fr_core_news_sm with NER only (its NER has its own tok2vec): ~4x faster."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                import spacy
                _nlp = spacy.load("fr_core_news_sm",
                                  exclude=["tok2vec", "morphologizer", "parser",
                                           "attribute_ruler", "lemmatizer"])
    return _nlp


def _ner_findings(text: str, countries) -> list[Finding]:
    # The French model labels many English capitalised words PER ("Hello", "John Smith
    # and I"): keep only capitalised name words, never at a sentence start alone, never
    # a place/hospital name, never a stop word or a country.
    found: list[Finding] = []
    for ent in _get_nlp()(text).ents:
        if ent.label_ != "PER":
            continue
        for s, e in _name_span(text, ent.start_char, ent.end_char, countries):
            words = text[s:e].split()
            if not all(w[:1].isupper() for w in words):
                continue
            if any(w.isupper() and len(w) <= 5 for w in words):
                continue    # acronyms (CPAM, CEAM…), not names
            if _PLACE_BEFORE.search(text[max(0, s - 30):s]):
                continue    # "Hôpital Necker", "clinique Saint-Jean"
            before = text[:s].rstrip()
            if len(words) == 1 and (not before or before[-1] in ".!?\n"):
                continue    # one capitalised word at a sentence start: usually not a name
            found.append(Finding("PERSON", s, e))
    return found


# ------------------------------------------------------------------ API
def _resolve(findings: list[Finding]) -> list[Finding]:
    """Leftmost, then longest, then most specific; no overlaps."""
    order = {k: i for i, k in enumerate(_PRIORITY)}
    findings = sorted(set(findings),
                      key=lambda f: (f.start, -(f.end - f.start), order[f.kind]))
    out: list[Finding] = []
    for f in findings:
        if f.end <= f.start:
            continue
        if out and f.start < out[-1].end:
            continue
        out.append(f)
    return out


def find_identifiers(text: str, *, use_ner: bool = True) -> list[Finding]:
    if not text:
        return []
    countries = _countries(text)
    found = _pattern_findings(text, countries)
    if use_ner:
        found += _ner_findings(text, countries)
    return _resolve(found)


def redact(text: str, *, use_ner: bool = True) -> str:
    """Text with each identifier replaced by a language-neutral placeholder."""
    for f in reversed(find_identifiers(text, use_ner=use_ner)):
        text = text[:f.start] + PLACEHOLDERS[f.kind] + text[f.end:]
    return text


def contains_identifier(text: str) -> bool:
    """Pattern rules only (no spaCy): cheap enough for every turn."""
    return bool(text) and bool(_pattern_findings(text, _countries(text)))
