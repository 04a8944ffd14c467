"""What the assistant says for one question type to one asker.

Pure functions (no Rasa): the answer action, the content tests and the
benchmark compose answers the same way.

An answer has three parts: the first bubble (the content's `short`, at most
`MAX_FIRST_BUBBLE_WORDS` words with the country note when one applies), the
details and the sources (legal basis + official links), both shown on demand.
Which text is said depends on who insures the asker (contract C2,
../shared/domain/situations.md): the `answer` is for people insured in France;
someone insured elsewhere gets the type's `insured_elsewhere`, else the generic
text of content/situations.yml for their insurance group and place of care —
never "your CPAM".

A rendered answer is identified by a short key ("C1|answer|treatment:CH") kept
in a slot, so that "More details" / "Sources" asked later by a REST client give
the parts of the very answer the person read.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from actions import responses
from core.content import (
    CARE_PLACES,
    Case,
    ELSEWHERE_GROUPS,
    Link,
    QuestionType,
    load_answers,
    load_coverage_notes,
    load_situations,
    localized,
)
from core.countries import load_countries, note_key
from core.situation import Situation, insurance_group

MAX_FIRST_BUBBLE_WORDS = 90
# People who ask about their own cover; other requesters (a pharmacist, a foreign
# NCP...) get the general answer without being asked where they are insured.
OWN_CASE_ROLES = (None, "patient", "relative")
# Insurance groups chosen without a country ("another country"): which coverage note
# speaks for them. (CH is both a group and a country: it is read as the country.)
GROUP_NOTE_KEYS = {"UK": "GB", "THIRD": "THIRD"}
GROUPS_WITHOUT_COUNTRY = ("EU_EEA", "UK", "THIRD")

VARIANT_ANSWER = "answer"
VARIANT_ELSEWHERE = "insured_elsewhere"
VARIANT_CASE = "case:"  # + the case id: the text of the question type for one situation


def words(text: str) -> int:
    """Words as a reader counts them: French spaced punctuation (" : ", " ; ") is not a word."""
    return sum(1 for token in text.split() if any(ch.isalnum() for ch in token))


@dataclass(frozen=True)
class Rendered:
    key: str            # what was said, for "More details" / "Sources" later
    code: str
    language: str
    first: str          # the first bubble
    note: str           # a coverage note too long for the first bubble: its own bubble, right after ("" if none)
    details: str        # shown on demand ("" when there is nothing more)
    legal_basis: str
    links: List[Link]


# --------------------------------------------------------------------------- choice
def insurance_group_of(situation: Situation, stated_group: Optional[str] = None) -> Optional[str]:
    """FR | EU_EEA | UK | CH | THIRD from the country of insurance, else from a group the asker chose."""
    return situation.insurance_group or (stated_group if stated_group in ("FR",) + ELSEWHERE_GROUPS else None)


def needs_insurer(qt: QuestionType, situation: Situation, group: Optional[str]) -> bool:
    """The one fact to ask first: who insures the asker, when the answer depends on it."""
    return (qt.insurer_dependent and group is None and situation.requester_role in OWN_CASE_ROLES
            and case_for(qt, situation, group) is None)


def care_place(situation: Situation) -> str:
    """care_in_france unless the care is said to be elsewhere (the French PCN's own scope by default)."""
    if situation.treatment_country and situation.treatment_country.upper() != "FR":
        return "care_elsewhere"
    if not situation.treatment_country and situation.direction == "abroad":
        return "care_elsewhere"
    return "care_in_france"


def _facts_for_cases(situation: Situation, group: Optional[str]) -> dict:
    """The asker's known facts, in the terms of a case's `when` (core.content.CASE_CONDITIONS)."""
    return {
        "insured": group,
        "residence": insurance_group(situation.residence_country),
        "treatment": insurance_group(situation.treatment_country),
        "status": situation.status,
        "direction": situation.direction,
        "timing": situation.care_timing,
    }


def _fits(case: Case, facts: dict) -> bool:
    for condition, accepted in case.when.items():
        value = facts.get(condition)
        if value is None:
            return False  # a case is said only for a stated fact, never a guessed one
        if value not in accepted and not ("abroad" in accepted and value != "FR"):
            return False
    return True


def answering_type(qt: QuestionType, situation: Situation, group: Optional[str]) -> QuestionType:
    """The question type that answers this asker: the one a fitting case names (`same_as`), else `qt`."""
    case = case_for(qt, situation, group)
    return load_answers()[case.same_as] if case and case.same_as else qt


def case_for(qt: QuestionType, situation: Situation, group: Optional[str]) -> Optional[Case]:
    """The first case of the question type that fits the asker, if any."""
    facts = _facts_for_cases(situation, group)
    return next((case for case in qt.cases if _fits(case, facts)), None)


def variant_for(qt: QuestionType, situation: Situation, group: Optional[str]) -> str:
    case = case_for(qt, situation, group)
    if case and not case.same_as:
        return VARIANT_CASE + case.id
    if not qt.insurer_dependent or group in (None, "FR"):
        return VARIANT_ANSWER
    if qt.insured_elsewhere:
        return VARIANT_ELSEWHERE
    if group in load_situations():
        return f"situation:{group}:{care_place(situation)}"
    return VARIANT_ANSWER  # no text for them yet: content/situations.yml is missing


def note_for(variant: str, situation: Situation, group: Optional[str]) -> Optional[str]:
    """Which coverage note fits: "treatment:<ISO2>" (insured in France, care in CH/UK/EEA-EFTA/third
    country) or "insurance:<ISO2 or group>" (insured there); None when no note applies. A case is
    written for its situation: no note is added to it."""
    if variant.startswith(VARIANT_CASE):
        return None
    if variant == VARIANT_ANSWER and group in (None, "FR"):
        iso2 = (situation.treatment_country or "").upper()
        if iso2 and iso2 != "FR" and note_texts("treatment", iso2):
            return f"treatment:{iso2}"
        return None
    if group and group != "FR":
        subject = (situation.insured_country or group).upper()
        return f"insurance:{subject}" if note_texts("insurance", subject) else None
    return None


def choose(qt: QuestionType, situation: Situation, group: Optional[str], with_note: bool = True) -> str:
    """The key of the answer to give: "<code>|<variant>|<note or empty>"."""
    variant = variant_for(qt, situation, group)
    note = note_for(variant, situation, group) if with_note else None
    return f"{qt.code}|{variant}|{note or ''}"


# --------------------------------------------------------------------------- rendering
def _note_key(kind: str, subject: str) -> Optional[str]:
    if subject in GROUPS_WITHOUT_COUNTRY:
        key = GROUP_NOTE_KEYS.get(subject)
        return key if key in load_coverage_notes().get(kind, {}) else None
    return note_key(subject, kind)


def note_texts(kind: str, subject: str) -> Optional[dict]:
    """{fr, en} of the coverage note of `kind` for a country (ISO2) or an insurance group, if any."""
    key = _note_key(kind, subject)
    return load_coverage_notes()[kind][key] if key else None


def note_line(note: str, language: str) -> str:
    """The note's text (each note names the country or group it is about)."""
    kind, subject = note.split(":", 1)
    texts = note_texts(kind, subject)
    return localized(texts, language) if texts else ""


def _case(qt: QuestionType, variant: str) -> Optional[Case]:
    if not variant.startswith(VARIANT_CASE):
        return None
    return next((c for c in qt.cases if c.id == variant[len(VARIANT_CASE):]), None)


def _texts(qt: QuestionType, variant: str, language: str):
    case = _case(qt, variant)
    if case:
        return case.answer.get(language) or case.answer["fr"]
    if variant == VARIANT_ELSEWHERE and qt.insured_elsewhere:
        return qt.insured_elsewhere.get(language) or qt.insured_elsewhere["fr"]
    if variant.startswith("situation:"):
        _, group, place = variant.split(":")
        by_language = load_situations().get(group, {}).get(place)
        if by_language:
            return by_language.get(language) or by_language["fr"]
    return qt.answer.get(language) or qt.answer["fr"]


def render(key: str, language: str) -> Rendered:
    """The first bubble, details and sources of the answer `key` in `language`."""
    code, variant, note = (key.split("|") + ["", ""])[:3]
    qt = load_answers()[code]
    text = _texts(qt, variant, language)
    first, details = text.short.strip(), text.details.strip()
    line = note_line(note, language) if note else ""
    separate = ""
    if line:
        # The note changes the rule, so it is never hidden in the details: in the first
        # bubble when that stays short enough to read at once, else in its own bubble.
        if words(first) + words(line) <= MAX_FIRST_BUBBLE_WORDS:
            first = f"{first}\n{line}"
        else:
            separate = line
    case = _case(qt, variant)
    by_language = case.links if case and case.links else qt.links
    links = by_language.get(language) or by_language.get("fr") or []
    return Rendered(key=key, code=code, language=language, first=first, note=separate, details=details,
                    legal_basis=localized(qt.legal_basis, language), links=list(links))


def sources_text(rendered: Rendered) -> str:
    """The legal basis and the official links as one message (single line breaks: one bubble)."""
    language = rendered.language
    lines = [responses.text("utter_legal_basis", language, legal_basis=rendered.legal_basis)]
    if rendered.links:
        lines.append(responses.text("utter_learn_more_heading", language))
        separator = " : " if language == "fr" else ": "
        lines += [f"• {link.label}{separator}{link.url}" for link in rendered.links]
    return "\n".join(lines)


def every_key(qt: QuestionType) -> List[Tuple[str, str]]:
    """Every (key, description) the assistant can say for this type: each variant, with and without
    each coverage note that can accompany it (for the content tests and the benchmark)."""
    treatment_notes = [f"treatment:{subject}" for subject in _subjects("treatment")]
    insurance_notes = [f"insurance:{subject}" for subject in _subjects("insurance")]
    keys = [(f"{qt.code}|{VARIANT_ANSWER}|", "answer")]
    keys += [(f"{qt.code}|{VARIANT_CASE}{case.id}|", f"case {case.id}") for case in qt.cases if not case.same_as]
    keys += [(f"{qt.code}|{VARIANT_ANSWER}|{note}", f"answer + {note}") for note in treatment_notes]
    if qt.insurer_dependent:
        variants = [VARIANT_ELSEWHERE] if qt.insured_elsewhere else [
            f"situation:{group}:{place}" for group in load_situations() for place in CARE_PLACES]
        for variant in variants:
            keys.append((f"{qt.code}|{variant}|", variant))
            keys += [(f"{qt.code}|{variant}|{note}", f"{variant} + {note}") for note in insurance_notes]
    return keys


def _subjects(kind: str) -> List[str]:
    """One country (ISO2) for each note of `kind`."""
    subjects = []
    for key in load_coverage_notes().get(kind, {}):
        subject = next((c["iso2"] for c in load_countries() if note_key(c["iso2"], kind) == key), None)
        if subject:
            subjects.append(subject)
    return subjects
