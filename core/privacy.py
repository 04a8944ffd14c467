"""Find and mask personal data in chat messages (FR/EN).

Pure Python (no Rasa import). Why: users type their NIR, phone, e-mail, name, address
or illness in free text although we never ask for them, and the desk keeps nothing raw
at rest (desk-anchors.md, privacy: "redact free text before analytics").

Three levels, cheapest first:

* ``find_identifiers(text, use_ner=False)`` — pattern rules: NIR (with its key), IBAN
  (mod 97), phones, e-mails (also "at … dot …"), addresses and postcodes, dates of
  birth, dossier / passport / card references, and names introduced by a cue ("je
  m'appelle", "Dr", "my wife", a sign-off) or starting with a known first name
  (content/privacy_terms.yml). A fraction of a millisecond: used on every turn and by
  the tracker store before each save (bot/tracker_store.py).
* ``use_ner=True`` adds spaCy's French NER (person names without a cue); a few ms,
  kept off the reply path (tickets, statistics, the tracker store's background pass).
* ``find_health_terms`` — conditions and treatments that reveal one (a curated FR/EN
  list, content/privacy_terms.yml), masked in the statistics only: an agent answering
  a ticket needs to know that the care is a dialysis. spaCy's small French model has
  no disease label, so this is a word list (accent-, case- and plural-insensitive).

Country names are never masked: they are a field of the bilan. The desk's own ticket
references (PCN-2026-000123) are not personal identifiers and stay.
"""
from __future__ import annotations

import datetime as _dt
import functools
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple

PLACEHOLDERS = {
    "NIR": "[NIR]", "PHONE": "[PHONE]", "IBAN": "[IBAN]", "EMAIL": "[EMAIL]",
    "NUMBER": "[NUMBER]", "PERSON": "[PERSON]", "ADDRESS": "[ADDRESS]",
    "BIRTHDATE": "[DATE]", "HEALTH": "[HEALTH]",
}
# When two findings overlap and start at the same place with the same length,
# the more specific kind wins.
_PRIORITY = ["EMAIL", "IBAN", "NIR", "PHONE", "ADDRESS", "BIRTHDATE", "NUMBER", "PERSON", "HEALTH"]


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


# ------------------------------------------------------------------ e-mail
_EMAIL = re.compile(r"(?<![\w.'’+-])[\w.+'’-]*\w ?@ ?[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
_TLD = (r"(?:com|org|net|fr|uk|ie|be|de|es|it|pt|nl|lu|ch|eu|at|pl|se|dk|fi|no|gr|ro|hu|cz|"
        r"io|info|edu|gov|gouv|co|biz|ma|dz|tn)")
_AT = r"(?:\s*[(\[{]\s*(?:at|arobase)\s*[)\]}]\s*|\s+(?:at|arobase)\s+)"
_DOT = r"(?:\s*[(\[{]\s*(?:dot|point)\s*[)\]}]\s*|\s+(?:dot|point)\s+|\.)"
_EMAIL_SPELLED = re.compile(r"(?<![\w.'’+-])[\w.+'’-]*\w" + _AT + r"[\w-]+(?:" + _DOT + r"[\w-]+)*"
                            + _DOT + _TLD + r"\b", re.I)

# ------------------------------------------------------------------ IBAN, NIR, numbers
# IBAN: country code, 2 check digits, 11–30 alphanumerics, optionally in groups. The
# match may run into the following words ("… 189 merci"): it is trimmed group by group
# until the checksum holds.
_IBAN = re.compile(r"(?<!\w)[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,30}(?!\w)", re.I)

# NIR: sex(1), year(2), month(2), department(2 or 2A/2B), commune(3), order(3), key(2).
# Digits may be grouped with spaces, dots or dashes, as printed on the carte Vitale.
_NIR = re.compile(
    r"(?<![\w+])[1-478][ .-]?\d{2}[ .-]?\d{2}[ .-]?(?:\d{2}|2[AB])[ .-]?\d{3}[ .-]?\d{3}"
    r"(?:[ .-]?\d{2})?(?!\w)", re.I)

_PHONE_FR = re.compile(r"(?<![\w+])(?:(?:\+|00)33[ .-]?(?:\(0\)[ .-]?)?|0)[1-9]"
                       r"(?:[ .-]?\d{2}){4}(?!\d)")
# Any national number (UK 07700 900123, IE 087 123 4567…): a 0, then 9–12 digits in all.
_PHONE_NATIONAL = re.compile(r"(?<![\w+])0\d(?:[ .-]?\d){7,10}(?!\d)")
_PHONE_INTL = re.compile(r"(?<![\w+])(?:\(\s?(?:\+|00)[1-9]\d{0,2}\s?\)|(?:\+|00)[1-9]\d{0,2})"
                         r"(?:[ .-]?(?:\(\d{1,4}\)|\d{1,4})){2,8}(?!\d)")

# Other runs of >= 6 digits (dossier, claim, card numbers), single separators allowed.
_NUMBER = re.compile(r"(?<![\w+])\d(?:[ .-]?\d){5,}(?!\w)")
# Mixed references: passport 18AV12345, dossier 456789-AB-1234 (>= 5 digits, >= 8 characters).
_ALNUM_REF = re.compile(r"(?<![\w-])(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])"
                        r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![\w-])")
_AMOUNT_AFTER = re.compile(r"^\s?(?:€|eur\b|euros?\b|\$|£|chf\b|dollars?\b|pounds?\b|livres?\b)", re.I)
_DATE_SHAPE = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")
_DESK_REFERENCE = re.compile(r"\bPCN-\d{4}-\d{6}\b", re.I)   # our own ticket references

# ------------------------------------------------------------------ addresses
_STREET_FR = (r"rue|avenue|av\.|bd|boulevard|place|all[ée]e|chemin|impasse|route|quai|"
              r"cours|square|passage|faubourg|r[ée]sidence|lotissement|lieu[- ]dit|hameau|"
              r"rond[- ]point|voie|villa|cit[ée]|chauss[ée]e|drève|"
              r"calle|avenida|plaza|paseo|carrer|rua|pra[çc]a|largo|travessa|via|viale|piazza|corso")
_CLAUSE = r"(?:et|à|a|pour|je|j|mais|and|in|at|for|depuis|dans|en|during|since|while|où|ou|or|with|avec)"
_STREET_NAME = r"(?:(?!" + _CLAUSE + r"\b)[\w'’.-]+\s?){1,6}"
_POSTCODE_CITY = r"(?:[A-Z]{1,2}-)?\d{4,5}\s+[A-ZÀ-Ý][\w'’-]+(?:[ -](?:sur|sous|en|le|la|lès|les)?[ -]?[A-ZÀ-Ý][\w'’-]+)*"
_ADDRESS_FR = re.compile(
    r"(?<!\w)\d{1,4}(?:\s?(?:bis|ter|[a-d]))?,?\s+(?:" + _STREET_FR + r")\s+" + _STREET_NAME
    + r"(?:,?\s*" + _POSTCODE_CITY + r")?", re.I)
# Street first: "Rue Neuve 123, 1000 Bruxelles" (BE, ES, IT…), "lieu-dit Les Granges, 24200 Sarlat".
_ADDRESS_STREET_FIRST = re.compile(
    r"(?<!\w)(?:" + _STREET_FR + r")\s+(?:(?!" + _CLAUSE + r"\b)[^\W\d][\w'’.-]*\s?){1,5}"
    # The house number is a word of its own: "een S1" after "via" (Dutch "through") is no address.
    r"(?:(?<=[\s,])\d{1,4}[a-z]?\b(?:,?\s*" + _POSTCODE_CITY + r")?|,?\s*(?-i:" + _POSTCODE_CITY + r"))", re.I)
_ADDRESS_DE = re.compile(r"(?<!\w)[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|platz|gasse|allee|ring|damm)"
                         r"\s+\d{1,4}[a-z]?(?:,?\s*\d{5}\s+[A-ZÄÖÜ][\wäöüß-]+)?")
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"
_STREET_EN = (r"Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Place|Square|"
              r"Court|Crescent|Terrace|Gardens|Boulevard|Blvd|Row|Hill|Mews|Park|Grove")
_ADDRESS_EN = re.compile(
    r"(?<!\w)\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][\w'’-]*\s+){1,3}(?:" + _STREET_EN + r")\b\.?"
    r"(?:,?\s*(?:[A-Z][a-z]+,?\s+)?" + _UK_POSTCODE + r"\b|,\s*[A-Z][a-z]+\b(?!\s+[a-z]))?")
_POSTCODE_UK = re.compile(r"(?<!\w)(?:[A-Z][a-z]+,?\s+)?" + _UK_POSTCODE.replace(r"\s?", r"\s") + r"(?!\w)")
# A bare French/Spanish/German postcode followed by a capitalised place name: "75002 Paris".
_POSTCODE_CITY_ALONE = re.compile(r"(?<![\w,.-])\d{5}\s+[A-ZÀ-Ý][\w'’-]+(?:[ -](?:sur|sous|en|lès)?[ -]?[A-ZÀ-Ý][\w'’-]+)*")
_NOT_A_CITY = re.compile(r"^(?:eur|euros?|chf|dollars?|livres?|pounds?|francs?|patients?|personnes?|people)\b", re.I)

# ------------------------------------------------------------------ dates of birth
_MONTHS = (r"janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|"
           r"novembre|d[ée]cembre|january|february|march|april|may|june|july|august|"
           r"september|october|november|december|janv|f[ée]vr?|avr|juil|sept?|"
           r"jan|feb|mar|apr|jun|jul|aug|oct|nov|d[ée]c")
_DATE = (r"(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?!\d)|\d{4}-\d{2}-\d{2}"
         r"|\d{1,2}(?:er|st|nd|rd|th)?\s+(?:of\s+)?(?:" + _MONTHS + r")\.?\s+\d{4}"
         r"|(?:" + _MONTHS + r")\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})")
_DATE_RE = re.compile(r"(?<![\w/.-])" + _DATE, re.I)
_BIRTH = re.compile(
    r"(?:\bn[ée]e?s?\s+le|\bdate\s+de\s+naissance\s*:?|\bborn\s+(?:on\s+)?(?:the\s+)?|"
    r"\bdate\s+of\s+birth\s*:?|\bDOB\s*:?|\bbirth\s*date\s*:?|\bd\.?o\.?b\.?\s*:?)\s*(" + _DATE + r")", re.I)
# A full date this many years back is a date of birth, not the date of a treatment.
BIRTH_YEARS_BACK = 12

# ------------------------------------------------------------------ names
_NAME_WORD = r"[A-ZÀ-Ýa-zà-ÿ][A-Za-zÀ-ÿ'’-]*"
_CAP_WORD = r"[A-ZÀ-Ý][A-Za-zÀ-ÿ'’-]*"
_CAP_NAME = _CAP_WORD + r"(?:\s+" + _CAP_WORD + r"){0,2}"
_INTRO = re.compile(
    r"(?:\bje\s+m['’\s]?appelle|\bmon\s+nom\s+(?:est|c['’]est)|\bmoi\s+c['’]est|\bmon\s+pr[ée]nom\s+est|"
    r"\bmy\s+name\s+is|\bmy\s+name['’]s|\b(?:full\s+)?name\s*:|\bnom\s*:|\bpr[ée]nom\s*:|\bsigned\s*:?)\s+"
    r"(" + _NAME_WORD + r"(?:\s+" + _NAME_WORD + r"){0,2})", re.I)
_I_AM = re.compile(r"\b(?i:I\s+am|I['’]m|je\s+suis|this\s+is|ici|here\s+is|voici)\s+(" + _CAP_WORD
                   + r"(?:\s+" + _CAP_WORD + r"){1,2})")
# After these a lower-case first name and surname are still a name: "je suis marie dupont".
_I_AM_LOWER = re.compile(r"\b(?:I\s+am|I['’]m|je\s+suis|this\s+is|moi\s+c['’]est|c['’]est)\s+"
                         r"([a-zà-ÿ][a-zà-ÿ'’-]+(?:\s+[a-zà-ÿ][a-zà-ÿ'’-]+){1,2})", re.I)
_TITLE = re.compile(r"(?<!\w)(?:M\.|Mme\.?|Mlle\.?|Mr\.?|Mrs\.?|Ms\.?|Miss|Dr\.?|Pr\.?|Me\.|"
                    r"(?i:monsieur|madame|mademoiselle|docteur|doctor|professeur|professor|ma[îi]tre))"
                    r"\s+(" + _CAP_NAME + r")")
_KIN = re.compile(r"\b(?i:mon|ma|my|notre|our)\s+(?i:fils|fille|mari|femme|[ée]pouse|[ée]poux|m[èe]re|"
                  r"p[èe]re|fr[èe]re|s(?:œ|oe)ur|conjointe?|compagnon|compagne|enfant|b[ée]b[ée]|"
                  r"grand-m[èe]re|grand-p[èe]re|belle-m[èe]re|beau-p[èe]re|tante|oncle|"
                  r"son|daughter|husband|wife|mother|father|mum|mom|dad|brother|sister|partner|"
                  r"child|baby|grandmother|grandfather|aunt|uncle)\s*,?\s+(" + _CAP_NAME + r")")
_SIGN_OFF = re.compile(r"(?i:cordialement|bien\s+[àa]\s+vous|salutations(?:\s+distingu[ée]es)?|"
                       r"merci(?:\s+d['’]avance)?|regards|kind\s+regards|best\s+regards|best\s+wishes|"
                       r"sincerely|yours\s+(?:sincerely|faithfully|truly)|thanks|thank\s+you|many\s+thanks)"
                       r"\s*[,.!-]?\s+(" + _CAP_NAME + r")\s*[.!]?\s*$")
# A signature after a dash at the end: "… - Sam Jones".
_DASH_SIGNATURE = re.compile(r"\s[-–—]\s*(" + _CAP_WORD + r"(?:\s+" + _CAP_WORD + r"){1,2})\s*[.!]?\s*$")
_FIRST_NAME_CANDIDATE = re.compile(r"(?<![\w'’.@-])([A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?)"
                                   r"((?:[ \t]+" + _CAP_WORD + r"){1,2})")

# Words that end a name or are never one (checked lower-case, accents kept).
_STOP = frozenset("""
et and je j i mais but a à de du des la le les en in from of to for the pour avec with
qui who que that est is suis am not pas ne ai have has was été merci thanks bonjour
hello hi hey bonsoir salut madame monsieur dear sir madam cher chère thank please svp stp oui
yes non no ok okay help aide question questions urgent here ici voici there là la-bas
depuis since sans without sur on sous under chez at aussi also très tres very bien well
alors so donc car because parce quand when comment pourquoi now maintenant encore still
toujours always actuellement currently déjà deja already enfin juste just vraiment really
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
né née nee born marié mariée mariee married retraité retraitée retraite retired
étudiant étudiante student salarié salariée frontalier frontalière pensionné pensionnée
assuré assurée assure insured enceinte pregnant malade ill sick inquiet inquiète worried
perdu perdue lost désolé désolée sorry ravi ravie glad content contente happy
ehpad ehpa usld ssr mdph caf cmu css ame ald cpam urssaf cnav carsat msa
""".split())
# Words after which a capitalised word is a hospital/place name, kept on purpose.
_PLACE_BEFORE = re.compile(r"(?:h[ôo]pital|hospital|clinique|clinic|polyclinique|chu|"
                           r"ch|centre|center|institut|institute|fondation|maison|"
                           r"saint|sainte|st|ste|rue|avenue|boulevard|place|all[ée]e|quai|cpam|caisse|"
                           r"universit[ée]|university|coll[èe]ge|lyc[ée]e|[ée]cole|school|gare|station|"
                           r"a[ée]roport|airport|pont|bridge)"
                           r"(?:\s+(?:de|du|des|la|le|l['’]|d['’]))?"
                           r"(?-i:(?:\s*[A-ZÀ-Ý][\w'’-]*){0,3})\s*$", re.I)


# ------------------------------------------------------------------ word lists
@functools.lru_cache(maxsize=1)
def _terms() -> dict:
    from core.content import load_privacy_terms

    return load_privacy_terms()


def _fold_key(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word.lower()) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=1)
def _first_names() -> frozenset:
    return frozenset(_fold_key(name) for name in _terms().get("first_names") or [])


def _is_first_name(word: str) -> bool:
    names = _first_names()
    return _fold_key(word) in names or all(_fold_key(part) in names for part in word.split("-"))


# ------------------------------------------------------------------ checks
def _nir_ok(raw: str) -> bool:
    s = re.sub(r"[ .-]", "", raw).upper()
    if len(s) != 15:
        return False
    body = s[:13].replace("2A", "19").replace("2B", "18")   # Corsica: official rule
    return body.isdigit() and int(s[13:]) == 97 - int(body) % 97


def _nir_kind(raw: str) -> str:
    """A valid key makes a NIR; 13 characters (the key left out) from a man or a woman
    too; a wrong key is a NUMBER (still masked)."""
    s = re.sub(r"[ .-]", "", raw).upper()
    if len(s) == 15:
        return "NIR" if _nir_ok(s) else "NUMBER"
    return "NIR" if len(s) == 13 and s[0] in "12" and 1 <= int(s[3:5]) <= 12 else "NUMBER"


def _iban_ok(raw: str) -> bool:
    s = re.sub(r"[ -]", "", raw).upper()
    if not (15 <= len(s) <= 34) or not s.isalnum():
        return False
    moved = s[4:] + s[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return int(digits) % 97 == 1


def _countries(text: str) -> list[tuple[int, int]]:
    from core.countries import find_countries

    return [(m.start, m.end) for m in find_countries(text)]


class _Countries:
    """Country spans, computed only if a name candidate needs them (it costs ~0.1 ms)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._spans: Optional[list] = None

    def __iter__(self):
        if self._spans is None:
            self._spans = _countries(self.text)
        return iter(self._spans)


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


def _old_enough_to_be_a_birth(date_text: str, today: Optional[_dt.date] = None) -> bool:
    years = re.findall(r"\d{4}|(?<=[./-])\d{2}$", date_text)
    if not years:
        return False
    year = int(years[-1])
    today = today or _dt.date.today()
    if year < 100:   # 2-digit year: the most recent past century
        year += 2000 if 2000 + year <= today.year else 1900
    return 1900 <= year <= today.year - BIRTH_YEARS_BACK


def _trim_groups(raw: str, ok) -> str:
    """Drops trailing space/dash groups until ``ok`` holds (or nothing is left to drop)."""
    cut = raw
    while re.search(r"[ -]", cut) and not ok(cut):
        cut = re.split(r"[ -](?=[^ -]*$)", cut)[0]
    return cut


_EMAIL_HINT = re.compile(r"@|\b(?:at|arobase)\b", re.I)


def _pattern_findings(text: str, countries) -> list[Finding]:
    found: list[Finding] = []
    if _EMAIL_HINT.search(text):
        for rx in (_EMAIL, _EMAIL_SPELLED):
            for m in rx.finditer(text):
                found.append(Finding("EMAIL", m.start(), m.end()))
    if any(c.isdigit() for c in text):   # every other pattern needs a digit: skip them cheaply
        _numeric_findings(text, found.append)
    _name_findings(text, countries, found.append)
    return found


def _numeric_findings(text: str, add) -> None:
    references = [(m.start(), m.end()) for m in _DESK_REFERENCE.finditer(text)]

    def ours(start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in references)

    for m in _IBAN.finditer(text):
        raw = m.group()
        if not any(ch.isdigit() for ch in raw[4:]):
            continue
        cut = _trim_groups(raw, _iban_ok)
        if _iban_ok(cut):
            add(Finding("IBAN", m.start(), m.start() + len(cut)))
        else:   # not an IBAN: mask its digit groups only
            cut = _trim_groups(raw, lambda s: bool(re.search(r"\d[^ -]*$", s)))
            add(Finding("NUMBER", m.start(), m.start() + len(cut)))
    for m in _NIR.finditer(text):
        add(Finding(_nir_kind(m.group()), m.start(), m.end()))
    for rx in (_PHONE_FR, _PHONE_NATIONAL, _PHONE_INTL):
        for m in rx.finditer(text):
            n_digits = sum(c.isdigit() for c in m.group())
            if 8 <= n_digits <= 15:
                add(Finding("PHONE", m.start(), m.end()))
    for m in _NUMBER.finditer(text):
        if _DATE_SHAPE.match(m.group()) or _AMOUNT_AFTER.match(text[m.end():]) or ours(m.start(), m.end()):
            continue    # dates, amounts and our own references are not identifiers
        add(Finding("NUMBER", m.start(), m.end()))
    for m in _ALNUM_REF.finditer(text):
        token = m.group()
        if sum(c.isdigit() for c in token) >= 5 and sum(c.isalnum() for c in token) >= 8 \
                and not ours(m.start(), m.end()):
            add(Finding("NUMBER", m.start(), m.end()))
    for rx in (_ADDRESS_FR, _ADDRESS_STREET_FIRST, _ADDRESS_DE, _ADDRESS_EN, _POSTCODE_UK):
        for m in rx.finditer(text):
            add(Finding("ADDRESS", m.start(), m.start() + len(m.group().rstrip(" ,"))))
    for m in _POSTCODE_CITY_ALONE.finditer(text):
        city = text[m.start() + 6:m.end()]
        if not _NOT_A_CITY.match(city) and city.split()[0].lower() not in _STOP:
            add(Finding("ADDRESS", m.start(), m.end()))
    for m in _BIRTH.finditer(text):
        add(Finding("BIRTHDATE", m.start(1), m.end(1)))
    for m in _DATE_RE.finditer(text):
        if _old_enough_to_be_a_birth(m.group()):
            add(Finding("BIRTHDATE", m.start(), m.end()))


def _name_findings(text: str, countries, add) -> None:
    for rx in (_INTRO, _TITLE, _I_AM, _KIN, _SIGN_OFF, _DASH_SIGNATURE):
        for m in rx.finditer(text):
            for s, e in _name_span(text, m.start(1), m.end(1), countries):
                add(Finding("PERSON", s, e))
    for m in _I_AM_LOWER.finditer(text):
        first = m.group(1).split()[0]
        if _is_first_name(first):
            spans = _name_span(text, m.start(1), m.end(1), countries)
            if spans and len(text[spans[0][0]:spans[0][1]].split()) >= 2:
                add(Finding("PERSON", *spans[0]))
    for m in _FIRST_NAME_CANDIDATE.finditer(text):
        if not _is_first_name(m.group(1)) or _PLACE_BEFORE.search(text[max(0, m.start() - 40):m.start()]):
            continue
        spans = _name_span(text, m.start(1), m.end(2), countries)
        if spans and spans[0][0] == m.start(1) and len(text[spans[0][0]:spans[0][1]].split()) >= 2:
            add(Finding("PERSON", *spans[0]))


# ------------------------------------------------------------------ spaCy NER
_nlp = None
_lock = threading.Lock()
_ner_lock = threading.Lock()


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


_CAPITALISED = re.compile(r"[A-ZÀ-Ý][\w'’-]*")


def _may_hold_a_name(text: str, countries) -> bool:
    """What the NER filter below would keep needs a capitalised word that is not at a
    sentence start, an acronym, a stop word or a country: without one, NER is skipped
    (most messages; it saves its few milliseconds on every statistic and stored row)."""
    for m in _CAPITALISED.finditer(text):
        word = m.group().strip(".'’")
        before = text[:m.start()].rstrip()
        if not before or before[-1] in ".!?\n" or word.lower() in _STOP:
            continue
        if word.isupper() and len(word) <= 5:
            continue
        if any(cs <= m.start() < ce for cs, ce in countries):
            continue
        return True
    return False


def _ner_findings(text: str, countries) -> list[Finding]:
    # The French model labels many English capitalised words PER ("Hello", "John Smith
    # and I"): keep only capitalised name words, never at a sentence start alone, never
    # a place/hospital name, a disease named after a person, a stop word or a country.
    found: list[Finding] = []
    if not _may_hold_a_name(text, countries):
        return found
    with _ner_lock:   # one pipeline shared by threads (statistics, tickets, the NER pass): one call at a time
        entities = list(_get_nlp()(text).ents)
    for ent in entities:
        if ent.label_ != "PER":
            continue
        for s, e in _name_span(text, ent.start_char, ent.end_char, countries):
            words = text[s:e].split()
            if not all(w[:1].isupper() for w in words):
                continue
            if any(w.isupper() and len(w) <= 5 for w in words):
                continue    # acronyms (CPAM, CEAM…), not names
            if _PLACE_BEFORE.search(text[max(0, s - 40):s]):
                continue    # "Hôpital Necker", "clinique Saint-Jean"
            if any(f.start <= s and e <= f.end for f in find_health_terms(text)):
                continue    # "maladie d'Alzheimer", "Parkinson's disease"
            before = text[:s].rstrip()
            if len(words) == 1 and (not before or before[-1] in ".!?\n"):
                continue    # one capitalised word at a sentence start: usually not a name
            found.append(Finding("PERSON", s, e))
    return found


# ------------------------------------------------------------------ health terms
_ORGANS = (r"sein|seins|poumons?|prostate|colon|pancreas|foie|peau|ovaires?|uterus|col de l uterus|"
           r"vessie|reins?|estomac|thyroide|cerveau|sang|os|gorge|larynx|hanche|genou|coeur|cornee|"
           r"moelle osseuse|breast|lung|bowel|pancreatic|liver|skin|ovarian|cervical|bladder|kidney|"
           r"stomach|thyroid|brain|blood|bone|throat|heart|cornea|bone marrow|testicular|rectal|"
           r"colorectal|pancreas|uterine|womb|prostate")
_QUALIFIERS = (r"severe|severes|chronique|chroniques|chronic|aigue|aigu|acute|grave|graves|profonde|profond|"
               r"legere|leger|mild|moderee|modere|moderate|avancee|avance|advanced|terminale|terminal|"
               r"metastatique|metastatic|positive|positif|en remission|in remission|resistante|resistant|"
               r"insulinodependant|insulinodependante|insulin dependent|majeure|major|recidivante|recurrent")
_PREFIX = (r"(?:(?:maladie|syndrome|disease)\s+(?:de\s+|d\s+|du\s+)?|type\s+(?:[12]|i{1,2})\s+|"
           r"(?:severe|chronic|acute|advanced|terminal|metastatic|major)\s+|(?:" + _ORGANS + r")\s+)?")
_SUFFIX = (r"(?:\s+(?:de\s+la\s+|de\s+l\s+|de\s+|du\s+|des\s+|d\s+|of\s+the\s+|of\s+)(?:" + _ORGANS + r")"
           r"|\s+(?:de\s+)?type\s+(?:[12]|i{1,2})(?![a-z0-9])|\s+(?:" + _QUALIFIERS + r")(?![a-z0-9])"
           r"|\s+s\s+(?:disease|syndrome)|\s+s(?![a-z0-9])|\s+(?:disease|syndrome))*")


def _fold_with_index(text: str) -> Tuple[str, List[int]]:
    """Lower-case, accent-free, apostrophes and hyphens as spaces; with the index map."""
    from core.countries import fold

    folded, index = fold(text)
    lower = folded.lower()
    if len(lower) != len(folded):   # a character whose lower case is longer: keep it as is
        lower = "".join(c.lower() if len(c.lower()) == 1 else c for c in folded)
    return lower, index


@functools.lru_cache(maxsize=1)
def _health_patterns():
    terms = _terms().get("health_terms") or {}
    words = {" ".join(_fold_with_index(term)[0].split()) for lang in terms.values() for term in lang}
    alternation = "|".join(r"\s+".join(map(re.escape, w.split(" ")))
                           for w in sorted(words, key=len, reverse=True) if w)
    loose = re.compile(r"(?<![a-z0-9])" + _PREFIX + r"(?:" + alternation + r")(?:e?s?|x)" + _SUFFIX
                       + r"(?![a-z0-9])")
    acronyms = [a for a in _terms().get("health_acronyms_case_sensitive") or []]
    strict = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, acronyms)) + r")(?![\w-])") if acronyms else None
    return loose, strict


def find_health_terms(text: str) -> list[Finding]:
    """Conditions and condition-revealing treatments (content/privacy_terms.yml)."""
    if not text:
        return []
    loose, strict = _health_patterns()
    folded, index = _fold_with_index(text)
    found = [Finding("HEALTH", index[m.start()], index[m.end() - 1] + 1) for m in loose.finditer(folded)]
    if strict is not None:
        found += [Finding("HEALTH", m.start(), m.end()) for m in strict.finditer(text)]
    return found


# ------------------------------------------------------------------ API
def _resolve(findings: Iterable[Finding]) -> list[Finding]:
    """Leftmost, then longest, then most specific; no overlaps."""
    order = {k: i for i, k in enumerate(_PRIORITY)}
    ordered = sorted(set(findings), key=lambda f: (f.start, -(f.end - f.start), order[f.kind]))
    out: list[Finding] = []
    for f in ordered:
        if f.end <= f.start:
            continue
        if out and f.start < out[-1].end:
            if f.end > out[-1].end and f.kind == out[-1].kind:   # same kind: merge the overlap
                out[-1] = Finding(f.kind, out[-1].start, f.end)
            elif f.end > out[-1].end:                            # keep the part that sticks out
                out.append(Finding(f.kind, out[-1].end, f.end))
            continue
        out.append(f)
    return out


def find_identifiers(text: str, *, use_ner: bool = True) -> list[Finding]:
    if not text:
        return []
    countries = _Countries(text)
    found = _pattern_findings(text, countries)
    if use_ner:
        found += _ner_findings(text, countries)
    return _resolve(found)


def _apply(text: str, findings: List[Finding]) -> str:
    for f in reversed(findings):
        text = text[:f.start] + PLACEHOLDERS[f.kind] + text[f.end:]
    return text


def redact(text: str, *, use_ner: bool = True) -> str:
    """Text with each identifier replaced by a language-neutral placeholder."""
    if not text:
        return text
    return _apply(text, find_identifiers(text, use_ner=use_ner))


def redact_for_statistics(text: str) -> str:
    """Identifiers and health terms masked: what the enquiry log (analytics) keeps."""
    if not text:
        return text
    return _apply(text, _resolve(find_identifiers(text, use_ner=True) + find_health_terms(text)))


def contains_identifier(text: str) -> bool:
    """Pattern rules only (no spaCy): cheap enough for every turn."""
    return bool(text) and bool(_pattern_findings(text, _Countries(text)))


# ------------------------------------------------------------------ Rasa events at rest
# The only metadata of a user message kept at rest: the widget's language and channel,
# and the model that answered (Rasa's own bookkeeping). Anything else a client sends
# (cookies, identifiers, free text) is dropped.
METADATA_KEPT = ("language", "channel", "model_id", "assistant_id")
# Slots whose values the desk generates (identifiers of its own records, never user
# text): a uuid hex such as an enquiry id looks like a reference to the patterns.
# Other slots are redacted; short codes (languages, countries, profiles) never match.
DESK_CODE_SLOTS = frozenset({"requested_slot", "enquiry_id", "ticket_reference"})


@functools.lru_cache(maxsize=4096)
def _redact_ours(text: str) -> str:
    """The assistant's own texts repeat (the same answers over and over): redact each once.
    They are ours, so patterns only; one that echoes the user is short and rarely repeats."""
    return redact(text, use_ner=False)


def _redact_any(value: Any, use_ner: bool, ours: bool = False) -> Any:
    if isinstance(value, str):
        if not value:
            return value
        return _redact_ours(value) if ours else redact(value, use_ner=use_ner)
    if isinstance(value, list):
        return [_redact_any(v, use_ner, ours) for v in value]
    if isinstance(value, dict):
        return {k: _redact_any(v, use_ner, ours) for k, v in value.items()}
    return value


def kept_metadata(metadata: Any) -> Dict[str, str]:
    if not isinstance(metadata, dict):
        return {}
    return {k: str(metadata[k])[:40] for k in METADATA_KEPT if isinstance(metadata.get(k), str)}


def _redact_entities(entities: Any, use_ner: bool) -> Any:
    if not isinstance(entities, list):
        return entities
    return [{**e, "value": _redact_any(e.get("value"), use_ner)} if isinstance(e, dict) else e for e in entities]


def redact_event(data: Dict[str, Any], *, use_ner: bool = False) -> Dict[str, Any]:
    """A Rasa event (``Event.as_dict()``) as it may be stored: what the user typed is
    redacted wherever it can appear — the user text and its parse data, entity values,
    slot values (``last_question_text``, ``escalation_question``, ``contact_email``…),
    bot texts that may echo it — and a user message keeps only ``METADATA_KEPT``.
    Button payloads are redacted too (one typed by hand may carry anything); the
    desk's own ('/inform{"country": "BE"}') contain nothing the rules mask.
    ``use_ner`` applies to what the user typed (bot texts are ours: patterns only)."""
    kind = data.get("event")
    out = dict(data)
    if kind == "user":
        text = data.get("text")
        redacted = _redact_any(text, use_ner)
        out["text"] = redacted
        if isinstance(data.get("parse_data"), dict):
            parse = dict(data["parse_data"])
            if "text" in parse:
                parse["text"] = redacted if parse["text"] == text else _redact_any(parse["text"], use_ner)
            parse["entities"] = _redact_entities(parse.get("entities"), use_ner)
            if "metadata" in parse:
                parse["metadata"] = kept_metadata(parse["metadata"])
            out["parse_data"] = parse
        if "metadata" in data:
            out["metadata"] = kept_metadata(data["metadata"])
    elif kind == "slot":
        name = data.get("name")
        if name == "session_started_metadata":
            out["value"] = kept_metadata(data.get("value"))
        elif name not in DESK_CODE_SLOTS:
            out["value"] = _redact_any(data.get("value"), use_ner)
    elif kind == "bot":
        for key in ("text", "data", "metadata"):
            if key in data:
                out[key] = _redact_any(data[key], False, ours=True)
    elif kind == "entities":
        out["entities"] = _redact_entities(data.get("entities"), use_ner)
    elif kind == "action" and data.get("action_text"):
        out["action_text"] = _redact_any(data["action_text"], use_ner)
    if kind in ("action", "session_started", "restart") and isinstance(data.get("metadata"), dict):
        out["metadata"] = kept_metadata(data["metadata"])
    return out
