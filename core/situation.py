"""The asker's situation: who asks, who insures them, where the care is, what kind.

Real people describe a situation, not a question type. The answer depends on
three facts first (../shared/domain/situations.md): who insures the person,
where the care is (or was), and whether it is planned or needed during a stay.
`Situation` carries those facts from message to message in Rasa slots (one
slot per field, same name), so the answer action can pick the text for *this*
asker and ask one short question when the deciding fact is missing.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from typing import Any, Dict, List, Mapping, Optional, Tuple

from core.content import load_situation_terms
from core.text import fold

# Values of the enumerated fields (None = not known).
REQUESTER_ROLES = ("patient", "relative", "pharmacist", "provider", "foreign_ncp", "institution", "elected",
                   "association")
CARE_TYPES = ("hospital", "imaging", "outpatient", "dental", "medicines", "maternity", "dialysis", "cancer",
              "physiotherapy", "optical", "fertility", "mental_health", "long_term_care", "other")


@dataclass(frozen=True)
class Situation:
    requester_role: Optional[str] = None     # REQUESTER_ROLES
    insured_country: Optional[str] = None    # ISO2 of the country whose scheme insures the person ("FR": France)
    insurance_scheme: Optional[str] = None   # e.g. "CPAM", "MSA", "NHS", "mutualite_be", "krankenkasse"
    residence_country: Optional[str] = None  # ISO2
    treatment_country: Optional[str] = None  # ISO2 of the country of care
    nationality: Optional[str] = None        # ISO2 ("US citizen" is a nationality, never a place of care)
    direction: Optional[str] = None          # core.content.DIRECTIONS
    care_timing: Optional[str] = None        # core.content.CARE_TIMINGS
    care_type: Optional[str] = None          # CARE_TYPES
    status: Optional[str] = None             # core.content.STATUSES

    @classmethod
    def slot_names(cls) -> tuple:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any]) -> "Situation":
        return cls(**{name: slots.get(name) or None for name in cls.slot_names()})

    def as_slots(self) -> Dict[str, Optional[str]]:
        return asdict(self)

    def merged_with(self, newer: "Situation") -> "Situation":
        """What the conversation knows: a fact stated in the newer message wins, the rest is kept."""
        return replace(self, **{k: v for k, v in asdict(newer).items() if v})

    @property
    def insurance_group(self) -> Optional[str]:
        return insurance_group(self.insured_country)


def insurance_group(iso2: Optional[str]) -> Optional[str]:
    """FR | EU_EEA | UK | CH | THIRD for the country of insurance, None when unknown."""
    if not iso2:
        return None
    from core.countries import country

    iso2 = "GB" if iso2.upper() == "UK" else iso2.upper()
    if iso2 == "FR":
        return "FR"
    if iso2 == "GB":
        return "UK"
    if iso2 == "CH":
        return "CH"
    try:
        record = country(iso2)
    except KeyError:
        return "THIRD"
    return "EU_EEA" if record.get("eu") or record.get("eea") else "THIRD"


# =========================================================================== reading a message
# How the facts are read (../shared/domain/situations.md). core/situation_marks.py
# marks the terms with spaCy; the rules below give each country its meaning, from
# the word next to it ("caisse belge", "US citizen", "German hospital", "UK
# tourist") or else from the nearest cue before it in the same sentence ("assurée
# en Suède", "I live in Portugal", "IRM en Allemagne"). Only stated facts are
# kept: a country without a cue stays unread rather than guessed.


_SHORT_FOLLOW_UP = 15   # tokens: "and what if I have it done in Belgium instead?"
_CUE_GAP = 6            # words between a cue and its country ("assurée depuis dix ans en Suède")
_OWN_SCHEME_WINDOW = 3  # "ma CPAM", "assuré à la MSA", "j'ai la carte Vitale"
_PERSON_WINDOW = 6      # words scanned back for whose fact a cue states
_GAP_WORDS = {"de", "du", "des", "d", "la", "le", "l", "les", "the", "a", "an", "en", "au", "aux", "in", "at", "of",
              "from", "by", "par", "to", "dans", "chez", "with", "avec", "vers", "pour", "sur"}
# Words that may join two cues of one clause ("je vis et je travaille", "I live and work").
_COORDINATION = {"et", "and", "je", "j", "i", "nous", "we", "on", "suis", "sommes", "am", "are", "also", "aussi",
                 "both", "a", "y", "me", "m", "ou", "or"}
_GENITIVE = {"de", "du", "des", "d", "of", "from", "by", "par"}
_LANGUAGE_WORDS = {"en", "in", "parle", "parler", "parlez", "parles", "parlant", "speak", "speaks", "speaking",
                   "langue", "language", "traduire", "traduit", "translate", "translated", "translation"}
_LANGUAGE_AFTER = {"speaking", "speaker", "speakers", "version", "translation", "language", "translator"}
_BE_FORMS = {"suis", "es", "est", "sommes", "etes", "sont", "am", "is", "are", "im", "m", "re", "s"}
_STRONG_UNPLANNED = {"tombe malade", "tombee malade", "tombes malades", "accident", "urgence", "urgences",
                     "aux urgences", "en urgence", "fell ill", "fall ill", "got ill", "got sick", "falls ill",
                     "emergency", "a&e", "broke my", "broken", "casse", "cassee", "fracture", "unexpected",
                     "unforeseen", "unplanned", "imprevu", "imprevus", "malade pendant"}
_ROLE_ORDER = ("foreign_ncp", "institution", "pharmacist", "provider", "association", "elected", "other",
               "relative", "patient")
PROFESSIONAL_ROLES = frozenset({"foreign_ncp", "institution", "pharmacist", "provider", "association", "elected",
                                "other"})
# The last word of a role phrase that names someone else ("ma patiente", "one of our insured"):
# a nationality next to it is that person's, not the asker's.
_OTHER_PERSON_NOUNS = {"patient", "patiente", "patients", "patientes", "assure", "assuree", "assures", "assurees",
                       "client", "cliente", "customer", "customers", "member", "members", "constituent",
                       "constituents", "administres", "administre", "administree", "administrees", "insured",
                       "person", "persons", "presente", "presented", "brought", "caisse", "usager", "usagere",
                       "adherents", "accompagne", "support"}
# Nouns after a nationality ("UK tourist", "touriste belge") and what they say of that country.
_HOME_KINDS = {
    "tourist": "home", "tourists": "home", "touriste": "home", "touristes": "home", "visitor": "home",
    "visitors": "home", "visiteur": "home", "student": "home", "students": "home", "etudiant": "home",
    "etudiante": "home", "family": "home", "famille": "home", "couple": "home",
    "pensioner": "pension", "pensioners": "pension", "retiree": "pension", "retraite": "pension",
    "retraitee": "pension", "resident": "residence", "residents": "residence", "residente": "residence",
}
# Words before "NCP" / "PCN" that say a contact point is writing (not asking about one).
_NCP_LEADS = ("this is the", "here is the", "ecris du", "ecrivons du", "ecris de la part du", "travaille au",
              "travaille pour le", "work at the", "work for the", "work in the", "we are the", "nous sommes le",
              "writing from the", "on behalf of the", "au nom du")
_CUE_MEANING = {"insured": ("insured", 3), "residence": ("residence", 3), "settled": ("residence", 3),
                "moving": ("residence", 3), "work": ("work", 2),
                "treatment": ("treatment", 2), "travel": ("treatment", 2), "stay": ("treatment", 2),
                "pension": ("pension", 2), "nationality": ("nationality", 3), "from": ("residence", 1),
                "to_france": ("treatment", 3), "employer": ("employer", 2)}
_STATUS_MEANING = {"tourist": ("treatment", 2), "student": ("treatment", 1), "resident": ("residence", 3),
                   "frontier_worker": ("work", 1), "posted_worker": ("work", 1), "pensioner": ("residence", 2)}
# "ne suis plus assuré en France", "no longer covered by the UK system": a fact denied is no fact.
_NEGATIONS = {"not", "never", "longer", "nt", "pas", "plus", "jamais", "non"}
_HOME_CUES = {"insured", "residence", "settled", "work"}
# "une ordonnance établie en Suisse", "établi par un médecin": a document drawn up, not a person settled.
_DRAWN_UP = {"ete", "ordonnance", "ordonnances", "prescription", "facture", "factures", "devis", "certificat",
             "attestation", "document", "documents", "formulaire", "carte", "dossier", "courrier", "avoir"}
# "send the bill to Ireland": the payer a bill goes to, not the place of care.
_BILL_WORDS = {"bill", "bills", "invoice", "invoices", "facture", "factures"}
# "these are just for retirees", "réservé aux retraités": a condition, not the asker's status.
_ONLY_FOR = ("just for", "only for", "reserved for", "que pour les", "uniquement pour les", "reserve aux",
             "reservee aux", "reserves aux", "reservees aux", "que aux", "qu aux")
# "patients frontaliers", "zones frontalières": "frontalier" as an adjective of place.
_BORDER_NOUNS = {"patient", "patients", "patiente", "patientes", "habitants", "habitant", "populations", "population",
                 "zone", "zones", "region", "regions", "communes", "villes", "hopitaux", "hopital", "departements",
                 "territoires", "territoire", "cooperation", "espace", "bassin"}
_BIG_AMOUNT = re.compile(
    r"(?:(?:€|£|\$|eur|chf)\s*(\d[\d\s.,']*)(k)?)|(?:(\d[\d\s.,']*)\s*(k)?\s*(?:€|£|\$|euros?|eur\b|livres?|pounds?|"
    r"chf|francs?|dollars?|zl|zloty))", re.I)


@dataclass
class Reading:
    """What one message says: the situation, and what the bilan needs about the asker."""
    situation: Situation
    role: Optional[str] = None               # REQUESTER_ROLES, or "other" (a lawyer, a journalist…)
    requester_country: Optional[str] = None  # the asker's own country, when the message states it
    distress: bool = False                   # distress words, or a bill above content's big_bill_amount
    explicit_direction: Optional[str] = None
    lives_abroad: bool = False               # lives outside France, the country unnamed ("Français de l'étranger")


@dataclass
class _Fact:
    value: str
    strength: int
    start: int
    person: Optional[str] = None  # "first" | "third" | None: whose fact the words state
    inferred: bool = False        # from a nationality: good enough to pick an answer, not for the bilan


def _terms() -> dict:
    return load_situation_terms()


def _folded_set(words) -> set:
    return {fold(str(w)) for w in words or ()}


@lru_cache(maxsize=1)
def _reader_terms() -> tuple:
    """(first-person words, third-person words, schemes by id, big-bill amount), folded once."""
    terms = _terms()
    return (frozenset(_folded_set(terms["persons"]["first"])), frozenset(_folded_set(terms["persons"]["third"])),
            {s["id"]: s for s in terms["schemes"]}, float(terms["distress"].get("big_bill_amount") or 3000))


class _Reader:
    def __init__(self, text: str, language: Optional[str], asked_fact: Optional[str]) -> None:
        from core.situation_marks import mark

        self.text = text or ""
        self.language = language
        self.asked_fact = asked_fact
        self.marked = mark(self.text, language)
        self.doc = self.marked.doc
        self.first_words, self.third_words, self.schemes, self.big_bill_amount = _reader_terms()
        marks = self.marked.marks
        self.by_label: Dict[str, list] = {}
        for m in marks:
            self.by_label.setdefault(m.label, []).append(m)
        self.relative_tokens = {i for m in self.by_label.get("RELATIVE", []) for i in range(m.start, m.end)}
        self.facts: Dict[str, List[_Fact]] = {}
        self._country_roles: Optional[Dict[int, Optional[str]]] = None
        self.geo_marks: list = []
        self.last_cue = None
        self._abroad_home: Optional[list] = None
        self._cue_stands: Dict[object, bool] = {}

    # ------------------------------------------------------------------ helpers
    def norm(self, i: int) -> str:
        return self.doc[i].norm_ if 0 <= i < len(self.doc) else ""

    def span_text(self, m) -> str:
        return " ".join(self.norm(i) for i in range(m.start, m.end))

    def longest(self, labels) -> list:
        """Marks of these labels, overlaps resolved by the longest (then the first)."""
        found = sorted((m for label in labels for m in self.by_label.get(label, [])),
                       key=lambda m: (-(m.end - m.start), m.start))
        kept: list = []
        taken: set = set()
        for m in found:
            if not taken.intersection(range(m.start, m.end)):
                kept.append(m)
                taken.update(range(m.start, m.end))
        return sorted(kept, key=lambda m: m.start)

    def inside(self, m, labels) -> Optional[object]:
        for label in labels:
            for other in self.by_label.get(label, []):
                if other is not m and other.start <= m.start and m.end <= other.end and (other.end - other.start) > (m.end - m.start):
                    return other
        return None

    def before(self, i: int, labels, ids=None) -> Tuple[list, List[str]]:
        """Marks of `labels` ending just before token i (skipping up to two small words), and the words skipped."""
        gap: List[str] = []
        j = i
        sent = self.marked.sent_of(i) if i < len(self.doc) else None
        for _ in range(3):
            found = [m for label in labels for m in self.by_label.get(label, [])
                     if m.end == j and (ids is None or m.id in ids) and m.sent == sent]
            if found:
                return found, gap
            if j - 1 < 0 or self.norm(j - 1) not in _GAP_WORDS:
                return [], gap
            gap.insert(0, self.norm(j - 1))
            j -= 1
        return [], gap

    def after(self, j: int, labels, ids=None) -> Tuple[list, List[str]]:
        """Marks of `labels` starting just after token j (exclusive end), skipping up to two small words."""
        gap: List[str] = []
        k = j
        for _ in range(3):
            found = [m for label in labels for m in self.by_label.get(label, [])
                     if m.start == k and (ids is None or m.id in ids)]
            if found:
                return found, gap
            if k >= len(self.doc) or self.norm(k) not in _GAP_WORDS:
                return [], gap
            gap.append(self.norm(k))
            k += 1
        return [], gap

    def person(self, i: int) -> Optional[str]:
        """Whose fact a cue at token i states: "first" (je, I, nous…), "third" (ma mère, elle, qui…) or
        None. The nearest pronoun or relative before the cue in its sentence decides."""
        sent = self.marked.sent_of(i) if i < len(self.doc) else None
        for j in range(min(i, len(self.doc) - 1) - 1, max(-1, i - _PERSON_WINDOW), -1):
            if self.marked.sent_of(j) != sent:
                break
            word = self.norm(j)
            if word in self.first_words:
                return "first"
            if word in self.third_words or j in self.relative_tokens:
                return "third"
        return None

    def add(self, fact: str, value: Optional[str], strength: int, start: int, person: Optional[str] = None,
            inferred: bool = False) -> None:
        if value:
            self.facts.setdefault(fact, []).append(_Fact(value, strength, start, person, inferred))

    def best(self, fact: str, min_strength: int = 0) -> Optional[_Fact]:
        candidates = [f for f in self.facts.get(fact, []) if f.strength >= min_strength]
        return max(candidates, key=lambda f: (f.strength, -f.start)) if candidates else None

    def concerned(self, fact: str, role: Optional[str], min_strength: int = 0) -> Optional[_Fact]:
        """The fact about the person the question concerns: a relative's when the asker asks for a
        relative ("ma mère est assurée en Suède"), else the asker's — "nos enfants vivent à Paris"
        in a pensioner's story is not where the pensioner lives."""
        candidates = [f for f in self.facts.get(fact, []) if f.strength >= min_strength]
        if role == "relative":
            rank = {"third": 2, None: 1, "first": 0}
        else:
            candidates = [f for f in candidates if f.person != "third"] or []
            rank = {"first": 1, None: 1}
        return max(candidates, key=lambda f: (rank[f.person], f.strength, -f.start)) if candidates else None

    def value(self, fact: str, min_strength: int = 0) -> Optional[str]:
        found = self.best(fact, min_strength)
        return found.value if found else None

    # ------------------------------------------------------------------ countries
    def self_role_span(self, m) -> bool:
        """A role phrase naming the asker ("je suis pharmacien"), not someone else ("ma patiente")."""
        return m.label == "ROLE" and m.id in PROFESSIONAL_ROLES and self.norm(m.end - 1) not in _OTHER_PERSON_NOUNS

    def read_geo(self, m) -> None:
        iso, start = m.id, m.start
        container = self.inside(m, ("SCHEME", "ROLE", "CUE"))
        if container is not None:
            if container.label == "ROLE" and self.self_role_span(container):
                self.add("requester", iso, 3, start)
            elif container.label == "CUE" and container.id == "to_france":
                self.add("treatment", iso, 3, start)
            # inside a scheme ("caisse allemande") the scheme says it
            if container.label in ("SCHEME", "CUE"):
                return
        if m.label == "DEMONYM":
            if self.norm(start - 1) in _LANGUAGE_WORDS or self.norm(m.end) in _LANGUAGE_AFTER:
                return  # "en anglais", "English-speaking": a language
        meaning = self.meaning_from_neighbours(m)
        if meaning is None:
            self.last_cue = None
            meaning = self.meaning_from_cue(m)
            for fact, strength, person in self.coordinated_home_cues(m, self.last_cue):
                self.add(fact, iso, strength, start, person)
        if meaning is None:
            if self.asked_fact == "insured_country":
                meaning = ("insured", 3, None)
            elif m.label == "DEMONYM":
                meaning = ("nationality", 1, None)
            elif self.found_role(m) == "treatment":  # core/countries' own cues, as a last resort
                meaning = ("treatment", 1, None)
            elif (m.label == "COUNTRY" and self.found_role(m) is None and len(self.geo_marks) == 1
                  and len(self.doc) <= _SHORT_FOLLOW_UP):
                # A short follow-up naming one country without a cue ("and what about Belgium?") asks
                # about the place of care; weakest of all, and never anyone's origin.
                meaning = ("treatment", 0, None)
            elif m.label == "COUNTRY" and iso == "FR" and self.lives_abroad_marks():
                # Someone living abroad who names France asks about care in France ("refuser en France").
                meaning = ("treatment", 1, None)
        if meaning is None:
            return
        fact, strength, person = meaning
        if person is None and fact != "treatment":
            person = self.person(start)  # "we are UK tourists", "elle est belge"
        if fact == "moving":  # where the person is going to live: for the answer, not yet the bilan's origin
            self.add("residence", iso, strength, start, person, inferred=True)
            return
        if fact == "home":  # a tourist's or a student's country: lives and is insured there
            self.add("residence", iso, 1, start, person)
            self.add("home", iso, 1, start, person)
            return
        self.add(fact, iso, strength, start, person)

    def meaning_from_neighbours(self, m):
        """Words right next to the country: "caisse belge", "US citizen", "German hospital", "UK tourist"."""
        start, end = m.start, m.end
        roles, gap = self.before(start, ("ROLE",))
        if any(self.self_role_span(r) for r in roles) and not (set(gap) & {"pour", "for", "avec", "with"}):
            return ("requester", 3, "first")
        if (self.has_role("foreign_ncp") or self.writes_from_an_ncp()) and m.id != "FR":
            # "the Belgian NCP" written by an NCP; "Dear French NCP" addresses us, a foreign NCP is never French
            if self.before(start, ("NCP",))[0] or self.after(end, ("NCP",))[0]:
                return ("requester", 3, "first")
        following, gap = self.after(end, ("CUE_AFTER", "INSURER", "CARE", "STATUS", "FORM", "CUE", "SCHEME"))
        # Right after the country, no small word between: "US citizen", "UK tourist", "German insurer".
        if following and not gap:
            meaning = self.neighbour_meaning(following, self.norm(following[0].start), after=True)
            if meaning:
                return meaning
        preceding, pgap = self.before(start, ("CUE_AFTER", "INSURER", "CARE", "STATUS", "CUE"))
        # Right before a nationality, no small word between: "caisse belge", "touriste belge", "clinique allemande".
        if m.label == "DEMONYM" and preceding and not pgap:
            meaning = self.neighbour_meaning(preceding, self.norm(preceding[0].end - 1), after=False)
            if meaning:
                return meaning
        if m.label == "DEMONYM" and not preceding and self.norm(start - 1) in _BE_FORMS:
            return ("nationality", 2, self.person(start - 1))
        if m.label == "COUNTRY" and self.norm(start - 1) in _BE_FORMS and self.norm(start - 1) not in ("est", "is", "s"):
            return ("nationality", 2, self.person(start - 1))  # "je suis suisse"
        # "S1 from the UK", "formulaire S1 de la Belgique": the issuing country insures.
        forms, fgap = self.before(start, ("FORM",), ids=("S1", "E106", "E121", "EHIC"))
        if forms and set(fgap) & _GENITIVE:
            return ("insured", 2, None)
        # "an S1 form or certificate from the UK": the form a few words before, "from" right before.
        if self.norm(start - 1) in ("from", "de", "du") or (self.norm(start - 1) in ("the", "la", "l")
                                                            and self.norm(start - 2) in ("from", "de")):
            if any(f.id in ("S1", "E106", "E121") and f.sent == m.sent and 0 <= start - f.end <= 6
                   for f in self.by_label.get("FORM", [])):
                return ("insured", 2, None)
        return None

    @staticmethod
    def neighbour_meaning(marks: list, word: str, after: bool):
        """What the marks right next to a country say of it, most telling first."""
        def has(label, ids=None):
            return any(x.label == label and (ids is None or x.id in ids) for x in marks)

        if has("CUE_AFTER", ("after_nationality",)) or (not after and has("CUE", ("nationality",))):
            return ("nationality", 3, None)
        if word in _HOME_KINDS:
            return (_HOME_KINDS[word], 2 if _HOME_KINDS[word] != "home" else 1, None)
        if has("INSURER") or (after and (has("SCHEME") or has("FORM", ("S1", "EHIC")))):
            return ("insured", 3, None)
        if has("CARE"):
            return ("treatment", 2, None)
        if has("STATUS", ("pensioner",)):
            return ("pension", 2, None)
        if has("CUE", ("employer",)):
            return ("employer", 2, None)
        return None

    def found_role(self, m) -> Optional[str]:
        """The role core/countries.find_countries gives the same mention (its own cue lists)."""
        if self._country_roles is None:
            from core.countries import find_countries

            self._country_roles = {c.start: c.role for c in find_countries(self.marked.doc.text)}
        return self._country_roles.get(self.doc[m.start].idx)

    def has_role(self, role: str) -> bool:
        return any(r.id == role for r in self.by_label.get("ROLE", []))

    def meaning_from_cue(self, m):
        """The nearest cue before the country in its sentence ("assurée en Suède", "IRM en Allemagne")."""
        best = None
        for label in ("CUE", "CARE", "STATUS", "TIMING"):
            for cue in self.by_label.get(label, []):
                if cue.sent != m.sent or cue.end > m.start or m.start - cue.end > _CUE_GAP:
                    continue
                if label == "CUE" and cue.id not in _CUE_MEANING:
                    continue
                if label == "STATUS" and cue.id not in _STATUS_MEANING:
                    continue
                if label == "TIMING" and cue.id != "unplanned":
                    continue
                if label == "CUE" and cue.id == "work" and self.is_past(cue):
                    continue  # "he has worked in the UK": a past job says nothing about today's cover
                if label == "CUE" and not self.home_cue_stands(cue):
                    continue
                if best is None or cue.end > best.end or (cue.end == best.end and cue.start < best.start):
                    best = cue
        self.last_cue = best
        if best is None:
            return None
        gap_words = [self.norm(i) for i in range(best.end, m.start)]
        genitive = bool(gap_words) and gap_words[-1] in _GENITIVE
        if best.label == "CUE":
            fact, strength = _CUE_MEANING[best.id]
        elif best.label == "CARE" or best.label == "TIMING":
            fact, strength = "treatment", 2
        else:
            fact, strength = _STATUS_MEANING[best.id]
            if best.id == "pensioner" and genitive:
                fact = "pension"  # "une pension de la France"
            if best.id == "frontier_worker" and genitive and m.start - best.end <= 2:
                fact, strength = "residence", 2  # "les frontaliers de Moselle": where they live
        if fact == "residence" and best.label == "CUE" and best.id == "from" and not genitive:
            return None
        if fact == "treatment" and self.norm(best.end - 1) in _BILL_WORDS and (
                "to" in gap_words or gap_words[:2] in (["a", "l"], ["a", "la"])):
            return ("payer", 0, None)  # "send the bill to Ireland": who pays, a question, no place of care
        if best.label == "CUE" and best.id == "moving":
            return ("moving", strength, self.person(best.start))
        return (fact, strength, self.person(best.start))

    def negated(self, cue) -> bool:
        """"je ne suis plus assuré", "I am no longer covered by", "I'm not insured in"."""
        words = [self.norm(i) for i in range(max(0, cue.start - 3), cue.start)]
        return bool(set(words) & {"not", "never", "nt", "longer"}) or (
            bool(set(words) & {"ne", "n"}) and bool(set(words) & {"pas", "plus", "jamais"}))

    def home_cue_stands(self, cue) -> bool:
        """A home cue ("assuré", "vivent", "établis") that states a fact: not denied, not a document
        "établie en Suisse", not a part of "non-résidents"."""
        if cue.id not in _HOME_CUES:
            return True
        if cue not in self._cue_stands:
            stands = not self.negated(cue) and not any(
                other.start <= cue.start and cue.end <= other.end for other in self.by_label.get("CUE", [])
                if other.id == "abroad_residents")
            if stands and cue.id == "settled":
                before = {self.norm(i) for i in range(max(0, cue.start - 3), cue.start)}
                stands = not (before & _DRAWN_UP) and self.norm(cue.end) not in ("par", "by")
            self._cue_stands[cue] = stands
        return self._cue_stands[cue]

    def lives_abroad_marks(self) -> list:
        """Where the message says someone lives outside France without naming the country: "retraités
        qui vivent à l'étranger", "Français établis hors de France", "pensioners living outside Europe",
        "adhérents de la CFE" (the fund of the French living abroad). Returns the `abroad` cues they use."""
        if self._abroad_home is not None:
            return self._abroad_home
        found: list = []
        cues = self.by_label.get("CUE", [])
        outside = [c for c in cues if c.id in ("abroad", "outside_eu")]
        for cue in cues:
            if cue.id in ("residence", "settled") and self.home_cue_stands(cue):
                for place in outside:
                    gap = [self.norm(i) for i in range(cue.end, place.start)]
                    if place.sent == cue.sent and place.start >= cue.end and all(w in _GAP_WORDS for w in gap) \
                            and len(gap) <= 2:
                        found.append(place)
            elif cue.id == "abroad_residents":
                found.append(cue)
        if any(m.id == "cfe" for m in self.by_label.get("SCHEME", [])):
            found.append(None)
        self._abroad_home = found
        return found

    def is_past(self, cue) -> bool:
        token = self.doc[cue.start]
        word = token.text.lower()
        return word in ("worked", "lived") or word.endswith(("é", "ée", "és", "ées")) or (
            self.norm(cue.start - 1) in ("ai", "as", "a", "avons", "avez", "ont", "avait", "avais", "have", "has", "had"))

    def coordinated_home_cues(self, m, nearest) -> List[Tuple[str, int, Optional[str]]]:
        """"je vis et je travaille en France", "I live and work in France": every home fact of the
        clause applies to the country, not only the nearest one."""
        if nearest is None or nearest.label != "CUE" or nearest.id not in ("insured", "residence", "work"):
            return []
        bound = max((g.end for g in self.geo_marks if g.sent == m.sent and g.end <= m.start), default=-1)
        found = []
        for cue in self.by_label.get("CUE", []):
            if (cue.id in ("insured", "residence", "work") and cue.id != nearest.id and cue.sent == m.sent
                    and bound <= cue.start and cue.end <= nearest.start
                    and all(self.norm(i) in _COORDINATION for i in range(cue.end, nearest.start))
                    and not (cue.id == "work" and self.is_past(cue))):
                fact, strength = _CUE_MEANING[cue.id]
                found.append((fact, strength, self.person(cue.start)))
        return found

    # ------------------------------------------------------------------ the rest
    def read_schemes(self) -> None:
        for m in self.longest(("SCHEME",)):
            scheme = self.schemes.get(m.id) or {}
            iso = scheme.get("country")
            if not iso:
                continue
            # "ma caisse allemande": the nationality says it, not the word "caisse".
            demonyms, gap = self.after(m.end, ("DEMONYM", "COUNTRY"))
            if demonyms and not gap and all(d.id != iso for d in demonyms):
                continue
            person = self.person(m.start)
            if scheme.get("foreign"):
                self.add("insured", iso, 2, m.start, person)
            elif scheme.get("weak"):
                self.add("insured", iso, 1, m.start, "first")
            elif self.owns_scheme(m):
                self.add("insured", iso, 2, m.start, person)
            elif self.asked_fact == "insured_country":
                self.add("insured", iso, 3, m.start, None)
            if self.inside(m, ("ROLE",)) is not None and self.self_role_span(self.inside(m, ("ROLE",))):
                self.add("requester", iso, 3, m.start, "first")
            if scheme.get("foreign") or scheme.get("weak") or self.owns_scheme(m):
                self.add("scheme", m.id, 2, m.start)

    def owns_scheme(self, m) -> bool:
        """"ma CPAM", "assuré à la MSA", "j'ai la carte Vitale", "insured with the NHS"."""
        words = [self.norm(i) for i in range(max(0, m.start - _OWN_SCHEME_WINDOW), m.start)]
        if set(words) & {"ma", "mon", "mes", "my", "notre", "our", "adherent", "adherente", "adherents",
                         "adherentes", "member", "members", "membre", "membres"}:
            return True
        if words[-2:] in (["j", "ai"], ["i", "have"], ["j", "avais"], ["i", "had"]) or words[-3:-1] in (["j", "ai"], ["i", "have"]):
            return True
        after = [self.norm(i) for i in range(m.end, min(len(self.doc), m.end + 2))]
        if after in (["covers", "me"], ["covers", "us"], ["me", "couvre"], ["nous", "couvre"]):
            return True  # "a GHIC covers us for emergencies"
        return any(c.id == "insured" and 0 <= m.start - c.end <= _OWN_SCHEME_WINDOW
                   for c in self.by_label.get("CUE", []))

    def forms(self) -> set:
        return {m.id for m in self.by_label.get("FORM", [])}

    def statuses(self) -> set:
        return {m.id for m in self.by_label.get("STATUS", []) if not self.only_for(m)}

    def only_for(self, m) -> bool:
        """"these are just for retirees", "réservé aux retraités": a condition, not the asker's status;
        "patients frontaliers", "zones frontalières": border patients or areas, not frontier workers."""
        before = " ".join(self.norm(i) for i in range(max(0, m.start - 4), m.start))
        if m.id == "frontier_worker" and self.norm(m.start - 1) in _BORDER_NOUNS:
            return True
        return before.endswith(_ONLY_FOR)

    def timing(self) -> Optional[str]:
        planned = [m for m in self.by_label.get("TIMING", []) if m.id == "planned"]
        unplanned = [m for m in self.by_label.get("TIMING", []) if m.id == "unplanned"]
        strong_unplanned = [m for m in unplanned if self.span_text(m) in _STRONG_UNPLANNED]
        strong_planned = bool(planned) or "S2" in self.forms()
        if strong_unplanned and not strong_planned:
            return "unplanned"
        if strong_planned and not strong_unplanned:
            return "planned"
        if strong_planned and strong_unplanned:
            return None  # both said: ask rather than guess
        if unplanned or self.forms() & {"EHIC", "PRC"} or self.statuses() & {"tourist", "student"}:
            return "unplanned"  # care needed during a stay (holiday, studies)
        return None

    def care_type(self) -> Optional[str]:
        found = {m.id for m in self.by_label.get("CARE", [])}
        for care in _terms()["care_types"]:  # the content file's order: most specific first
            if care in found:
                return care
        return None

    def writes_from_an_ncp(self) -> bool:
        """"This is the German NCP", "je vous écris du PCN belge": a contact point writes."""
        geo = {i for label in ("COUNTRY", "DEMONYM") for m in self.by_label.get(label, []) for i in range(m.start, m.end)}
        for ncp in self.by_label.get("NCP", []):
            words = [self.norm(i) for i in range(max(0, ncp.start - 6), ncp.start) if i not in geo]
            if any(" ".join(words).endswith(lead) for lead in _NCP_LEADS):
                return True
        return False

    def retired_from(self, m) -> bool:
        """"je suis infirmière à la retraite", "ancien médecin": no longer speaks as one."""
        after = " ".join(self.norm(i) for i in range(m.end, min(len(self.doc), m.end + 3)))
        before = " ".join(self.norm(i) for i in range(max(0, m.start - 1), m.start))
        return (after.startswith(("a la retraite", "retraite", "en retraite", "retired", "honoraire"))
                or before in ("ancien", "ancienne", "former", "retired", "ex"))

    def asks_for_a_relative(self) -> bool:
        """"ma mère doit se faire opérer": yes; "my wife and I", "mon mari et moi": the asker is in it too."""
        for m in self.by_label.get("RELATIVE", []):
            after = [self.norm(i) for i in range(m.end, min(len(self.doc), m.end + 3))]
            before = [self.norm(i) for i in range(max(0, m.start - 2), m.start)]
            if after[:2] in (["and", "i"], ["et", "moi"]) or before[-2:] in (["moi", "et"], ["me", "and"], ["i", "and"]):
                continue
            if before[-1:] in (["with"], ["avec"], ["chez"], ["visit"], ["visiting"], ["see"], ["voir"]) or before[-2:] in (
                    ["occuper", "de"], ["look", "after"], ["care", "for"], ["visite", "a"], ["staying", "at"],
                    ["stay", "at"], ["visit", "to"], ["trip", "to"]):
                continue  # "with my husband", "chez ma fille", "m'occuper de mon père": the asker's own case
            return True
        return False

    def speaks_of_own_care(self) -> bool:
        """A patient statement in the first person ("je suis dialysé", "I'm retired")."""
        return any(m.id == "patient" and self.norm(m.start) in ("je", "j", "i", "im") and
                   self.norm(m.start + 1) in ("suis", "am", "m", "me", "ai")
                   for m in self.by_label.get("ROLE", []))

    def role(self) -> Optional[str]:
        roles = self.by_label.get("ROLE", [])
        found = {m.id for m in roles if not (m.id in PROFESSIONAL_ROLES and self.retired_from(m))}
        if any(m.id in PROFESSIONAL_ROLES and self.retired_from(m) for m in roles):
            found.add("patient")  # "je suis infirmière à la retraite": a private person
        if self.asks_for_a_relative() and not self.speaks_of_own_care():
            found.add("relative")
        elif self.by_label.get("RELATIVE"):
            found.add("patient")
        if self.writes_from_an_ncp():
            found.add("foreign_ncp")
        return next((role for role in _ROLE_ORDER if role in found), None)

    def status(self, timing: Optional[str]) -> Optional[str]:
        statuses, forms = self.statuses(), self.forms()
        work, residence = self.value("work"), self.value("residence", 2)
        # "retraités établis en Belgique … les dispositions pour les frontaliers": a retired person
        # who names frontier workers is a pensioner (a retired frontier worker too: the pension now).
        retired = "pensioner" in statuses and not any(
            c.id == "work" and not self.is_past(c) and self.home_cue_stands(c) for c in self.by_label.get("CUE", []))
        if not retired and ("frontier_worker" in statuses or (work and residence and work != residence
                                                              and "posted_worker" not in statuses)):
            return "frontier_worker"
        if "posted_worker" in statuses or "A1" in forms:
            return "posted_worker"
        living = residence or "resident" in statuses or self.lives_abroad_marks()
        if "E121" in forms or ("pensioner" in statuses and (forms & {"S1", "E106"} or living or self.value("pension"))):
            if not forms & {"S1", "E106", "E121"} and self.pension_from_outside_europe():
                return "resident"  # a US retiree in France has no S1: someone living there
            return "pensioner_s1"
        if self.holds_an_s1() and (living or self.value("residence", 1)) and "student" not in statuses:
            return "pensioner_s1"  # "moving to France with my S1": the S1 of someone living in one State, insured in another
        if "student" in statuses:
            return "student"
        if "tourist" in statuses and timing != "planned":
            return "tourist"
        if "resident" in statuses or self.value("residence", 3):
            return "resident"
        return None

    def holds_an_s1(self) -> bool:
        """"with my S1", "I have an S1", "via form S1" — not "they told me I need an S1"."""
        for m in self.by_label.get("FORM", []):
            if m.id in ("S1", "E106"):
                before = {self.norm(i) for i in range(max(0, m.start - 3), m.start)}
                if before & {"my", "mon", "ma", "with", "avec", "have", "ai", "via", "holder", "titulaire", "our",
                             "notre", "nos"} and not before & {"need", "needed", "pour", "for", "eligible"}:
                    return True
        return False

    def pension_from_outside_europe(self) -> bool:
        """The only country said to pay or insure the retired person is outside the EU/EEA, UK and CH
        ("we are Americans, my husband is retired"): no S1 can come from it."""
        stated = [f.value for fact in ("pension", "insured") for f in self.facts.get(fact, [])]
        if not stated:
            stated = [f.value for f in self.facts.get("nationality", []) if f.strength >= 2]
        return bool(stated) and all(insurance_group(iso) == "THIRD" for iso in stated)

    def insured(self, status: Optional[str]) -> None:
        # What the status says about who insures (situations.md §4): a frontier worker is insured
        # where they work, a posted worker by their employer's country, an S1 pensioner by the
        # country paying the pension, a tourist or a student at home.
        derived = {"frontier_worker": "work", "posted_worker": "employer", "pensioner_s1": "pension",
                   "tourist": "home", "student": "home"}.get(status or "")
        for fact in (["pension"] if derived == "pension" else []) + ([derived] if derived and derived != "pension" else []):
            for found in self.facts.get(fact, []):
                # A frontier worker is insured where they work, whatever fund of the other State they
                # name ("la caisse française décompte avec la caisse allemande"); an explicit
                # "assuré en …" still wins (unemployment, telework).
                strength = 3 if fact == "work" and found.strength >= 2 and not self.stated_insured_cue() else (
                    2 if fact != "home" else 1)
                self.add("insured", found.value, strength, found.start, found.person)
        if status == "tourist" and not self.facts.get("insured") and not self.facts.get("residence"):
            # "We are German, with a holiday home in the Dordogne": visitors are insured at home.
            for found in self.facts.get("nationality", []):
                if found.strength >= 2 and found.person != "third":
                    # For the answer only: a nationality is never the bilan's origin.
                    self.add("insured", found.value, 1, found.start, found.person, inferred=True)
                    self.add("residence", found.value, 1, found.start, found.person, inferred=True)
        if "S3125" in self.forms():
            self.add("insured", "FR", 1, 0, None)
        if status == "tourist" and not self.facts.get("residence"):
            # A visitor lives where they are insured ("Serai-je couverte par l'Assurance maladie en
            # Espagne ?"): for the answer only, never the bilan's origin.
            found = self.concerned("insured", None, 2)
            if found:
                self.add("residence", found.value, 1, found.start, found.person, inferred=True)

    def names_a_french_fund(self) -> bool:
        """"rendre leur carte Vitale", "la CPAM": the French scheme, which pays for care in France
        (the CFE, the fund of the French living abroad, does not say where the care is)."""
        return any(self.schemes.get(m.id, {}).get("country") == "FR" and m.id != "cfe"
                   for m in self.by_label.get("SCHEME", []))

    def stated_insured_cue(self) -> bool:
        # "assurée en Suède", "covered by": a statement; "doivent s'affilier à": an obligation, no statement
        return any(c.id == "insured" and self.home_cue_stands(c) and not self.norm(c.end - 1).endswith("er")
                   and self.norm(c.start) != "affiliation" for c in self.by_label.get("CUE", []))

    def distress(self) -> bool:
        if self.by_label.get("DISTRESS"):
            return True
        for match in _BIG_AMOUNT.finditer(self.text):
            number = match.group(1) or match.group(3) or ""
            thousands = match.group(2) or match.group(4)
            digits = re.sub(r"[\s']", "", number)
            digits = re.sub(r"[.,](\d{3})(?!\d)", r"\1", digits)  # 14.000 / 14,000 -> 14000
            digits = digits.replace(",", ".")
            try:
                amount = float(digits.rstrip(".")) * (1000 if thousands else 1)
            except ValueError:
                continue
            if amount >= self.big_bill_amount:
                return True
        return False

    def explicit_direction(self, situation: Situation) -> Optional[str]:
        """The direction the words give when the facts do not (core/situation.derive_direction first)."""
        home_abroad = self.lives_abroad_marks()
        cues = {m.id for m in self.by_label.get("CUE", []) if m not in home_abroad}
        if "to_france" in cues:
            return "to_france"
        if home_abroad and (situation.treatment_country == "FR" or (
                not situation.treatment_country and self.names_a_french_fund())):
            return "to_france"  # living outside France, asking about care in France (or the carte Vitale)
        foreign_cover = situation.insured_country not in (None, "FR")
        if "abroad" in cues and not foreign_cover:
            return "abroad"  # "abroad" seen from France; from a foreign insurer's side it may be France
        if (foreign_cover and situation.residence_country == "FR" and not situation.treatment_country
                and situation.status != "tourist"):
            return "to_france"  # living in France, insured elsewhere (an S1, a Medicare policy)
        return None

    def read(self) -> Reading:
        self.geo_marks = self.longest(("COUNTRY", "DEMONYM", "PLACE"))
        for m in self.geo_marks:
            if (m.label == "PLACE" and self.asked_fact != "insured_country"
                    and self.meaning_from_neighbours(m) is None and self.meaning_from_cue(m) is None):
                continue  # a city without a cue ("Paris" in a name, "Nice" in a sentence) says nothing
            self.read_geo(m)
        self.read_schemes()
        timing = self.timing()
        status = self.status(timing)
        role = self.role()
        self.insured(status)
        insured = self.concerned("insured", role)
        residence = self.concerned("residence", role, 1)
        treatment = self.best("treatment")
        nationality = self.concerned("nationality", role)
        situation = Situation(
            requester_role=role if role in REQUESTER_ROLES else None,
            insured_country=insured.value if insured else None,
            insurance_scheme=self.value("scheme"),
            residence_country=residence.value if residence else None,
            treatment_country=treatment.value if treatment else None,
            nationality=nationality.value if nationality else None,
            care_timing=timing,
            care_type=self.care_type(),
            status=status,
        )
        explicit = self.explicit_direction(situation)
        lives_abroad = bool(self.lives_abroad_marks()) and not situation.residence_country
        situation = replace(situation, direction=derived_direction(situation, lives_abroad) or explicit)
        return Reading(situation=situation, role=role, requester_country=self.requester_country(role),
                       distress=self.distress(), explicit_direction=explicit, lives_abroad=lives_abroad)

    def requester_country(self, role: Optional[str]) -> Optional[str]:
        """The asker's own country for the bilan: where insured, else where living; for a
        professional, where they work. Unknown rather than wrong: someone else's facts
        ("ma mère est assurée en Suède") and a place of care never count."""
        if role in PROFESSIONAL_ROLES:
            stated = self.best("requester")
            if stated:
                return stated.value
            # A fund writes "nous sommes la caisse luxembourgeoise", "we are a German sickness fund".
            for fact in (("insured", "work", "residence") if role == "institution" else ("work", "residence")):
                found = [f for f in self.facts.get(fact, []) if f.person == "first" and f.strength >= 2]
                if found:
                    return found[0].value
            return None
        allowed = ("first",) if role == "relative" else ("first", None)
        for fact in ("insured", "residence"):
            found = [f for f in self.facts.get(fact, []) if f.person in allowed and f.strength >= 1 and not f.inferred]
            if found:
                return max(found, key=lambda f: (f.strength, -f.start)).value
        return None


def derive_direction(situation: Situation) -> Optional[str]:
    """abroad (care outside the countries where the person lives and is insured — from France by
    default), to_france (care in France for someone insured or living elsewhere), domestic (care in
    France for someone insured and living in France)."""
    treatment = situation.treatment_country
    insured, residence = situation.insured_country, situation.residence_country
    if treatment == "FR":
        if insured == "FR" and residence in (None, "FR"):
            return "domestic"
        if (insured and insured != "FR") or (residence and residence != "FR"):
            return "to_france"
        return None
    if treatment:
        if (insured or residence) and insured in (None, treatment) and residence in (None, treatment):
            return None  # care where the person lives and is insured: nothing cross-border is stated
        return "abroad"
    return None


def derived_direction(situation: Situation, lives_abroad: bool) -> Optional[str]:
    """derive_direction, knowing that the person lives outside France even when the country is not
    named: care in France for a French-insured person living abroad is not domestic."""
    direction = derive_direction(situation)
    return "to_france" if direction == "domestic" and lives_abroad else direction


def read_message(text: str, language: Optional[str], asked_fact: Optional[str] = None) -> Reading:
    """Everything one message states (no memory of the conversation)."""
    if not (text or "").strip() or (text or "").startswith("/"):
        return Reading(situation=Situation())
    return _Reader(text, language, asked_fact).read()


def read_situation(text: str, language: Optional[str], previous: Optional[Situation] = None,
                   asked_fact: Optional[str] = None) -> Situation:
    """What the conversation knows after this message: its facts merged over `previous`.

    `asked_fact` is the fact the assistant has just asked for (slot `asked_fact`): after
    "Where are you insured?", a bare "Belgique" or "la CPAM" answers it.
    """
    return merge(previous, read_message(text, language, asked_fact))


def merge(previous: Optional[Situation], reading: Reading) -> Situation:
    """The newer message's facts over what the conversation knew; the direction follows the merged facts."""
    merged = (previous or Situation()).merged_with(reading.situation)
    direction = (derived_direction(merged, reading.lives_abroad and not merged.residence_country)
                 or reading.explicit_direction or (previous.direction if previous else None))
    return replace(merged, direction=direction)
