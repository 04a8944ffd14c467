"""Loads the staff-edited content files (content/*.yml) once per process.

Answers, situations, time limits, the glossary, vocabularies and countries live
in data files so that PCN staff can review and change them without touching
code; this module is their only reader. It checks their shape when it loads
them and names the file, the entry and the field of every problem, so that a
typo in a content file stops the assistant at start-up with a message a
content editor can act on, instead of an answer that silently loses a part.

The answer schema (v2) is documented in docs/ARCHITECTURE.md ("Question types").
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlparse

import yaml

from core.settings import content_dir

LANGUAGES = ("fr", "en")
ROUTES = ("BOT", "BOT_H", "H")
# Where the care is, for an asker insured elsewhere (content/situations.yml).
CARE_PLACES = ("care_in_france", "care_elsewhere")
# Coverage notes of content/countries.yml: by kind, keyed by core.countries.coverage_note_key
# (CH, GB, EEA_EFTA, THIRD) or by the ISO2 code of one country (e.g. DK).
NOTE_KINDS = ("treatment", "insurance")
NOTE_GROUP_KEYS = ("CH", "GB", "EEA_EFTA", "THIRD")

_CODE = re.compile(r"^[A-D]\d{1,2}$")
_INTENT = re.compile(r"^q_[a-d]\d{1,2}_[a-z0-9_]+$")
_QUESTION_KEYS_REQUIRED = ("code", "category", "intent", "route", "title", "legal_basis", "sources", "links", "answer")
_QUESTION_KEYS_OPTIONAL = ("handoff", "insurer_dependent", "insured_elsewhere", "reviewed", "time_limits", "cases")
# The values of the asker's situation (core/situation.py), here because content files use them too.
DIRECTIONS = ("abroad", "to_france", "domestic")
CARE_TIMINGS = ("planned", "unplanned")
STATUSES = ("pensioner_s1", "frontier_worker", "student", "posted_worker", "tourist", "resident")
# Insurance groups: which rules apply depends first on who insures the person.
INSURANCE_GROUPS = ("FR", "EU_EEA", "UK", "CH", "THIRD")
# Who insures an asker outside France (the `answer` is for people insured in France).
ELSEWHERE_GROUPS = tuple(group for group in INSURANCE_GROUPS if group != "FR")
# What a case of a question type may require of the asker's situation, and the values each condition
# accepts; "abroad" stands for any group but FR.
CASE_CONDITIONS = {
    "insured": INSURANCE_GROUPS + ("abroad",),
    "residence": INSURANCE_GROUPS + ("abroad",),
    "treatment": INSURANCE_GROUPS + ("abroad",),
    "status": STATUSES,
    "direction": DIRECTIONS,
    "timing": CARE_TIMINGS,
}
_CASE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class ContentError(ValueError):
    """A content file does not follow its schema; the message lists every problem found."""

    def __init__(self, problems: List[str]):
        self.problems = problems
        super().__init__("content does not follow its schema:\n- " + "\n- ".join(problems))


def localized(texts: Optional[Dict[str, str]], language: Optional[str]) -> str:
    """Picks the text in `language`, falling back to French (the PCN's language)."""
    if not texts:
        return ""
    return texts.get(language or "fr") or texts.get("fr") or next(iter(texts.values()))


@dataclass(frozen=True)
class Link:
    url: str
    label: str


@dataclass(frozen=True)
class AnswerText:
    short: str    # the first bubble: direct answer, what to do, time limit
    details: str  # the rest, shown on demand


@dataclass(frozen=True)
class Review:
    on: datetime.date       # when the answer was last reviewed
    against: List[str]      # the sources it was checked against


@dataclass(frozen=True)
class Case:
    """The text of a question type for one situation ("a UK pensioner living in France"): every condition
    of `when` must be a known fact of the asker; the first case that fits is said instead of `answer`."""
    id: str
    when: Dict[str, Tuple[str, ...]]  # condition (CASE_CONDITIONS) -> accepted values
    answer: Dict[str, AnswerText]     # empty when `same_as` is set
    links: Dict[str, List[Link]] = field(default_factory=dict)  # empty: the question type's links
    # The code of another question type that answers this situation better ("how do I join the French
    # system?" asked by someone travelling to the US is a question about care during a stay).
    same_as: Optional[str] = None


@dataclass(frozen=True)
class QuestionType:
    code: str
    category: str
    intent: str
    route: str
    title: Dict[str, str]
    legal_basis: Dict[str, str]
    answer: Dict[str, AnswerText]                 # for people insured in France
    links: Dict[str, List[Link]] = field(default_factory=dict)  # by language: pages in the reader's language
    sources: List[str] = field(default_factory=list)
    handoff: Dict[str, str] = field(default_factory=dict)
    insurer_dependent: bool = False               # the answer depends on who insures the asker
    insured_elsewhere: Dict[str, AnswerText] = field(default_factory=dict)  # for people insured elsewhere
    reviewed: Optional[Review] = None
    time_limits: List[str] = field(default_factory=list)  # ids of content/time_limits.yml stated in `short`
    cases: List[Case] = field(default_factory=list)       # situation-specific texts, tried in order

    @property
    def offers_agent(self) -> bool:
        return self.route in ("BOT_H", "H")


@dataclass(frozen=True)
class TimeLimit:
    id: str
    phrase: Dict[str, str]   # how the short answer states it ("2 ans" / "2 years")
    what: Dict[str, str]
    basis: Dict[str, str]


# --------------------------------------------------------------------------- reading
def _read_yaml(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except yaml.YAMLError as error:
        raise ContentError([f"{_name(path)}: not valid YAML ({error})"]) from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ContentError([f"{_name(path)}: expected a mapping at the top of the file"])
    return data


def _name(path: Path) -> str:
    try:
        return str(path.relative_to(content_dir().parent))
    except ValueError:
        return str(path)


class _Checker:
    """Collects problems with their place ("content/answers/c.yml, C1: answer.en.short ...")."""

    def __init__(self) -> None:
        self.problems: List[str] = []

    def add(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def text(self, where: str, value: Any, name: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.add(where, f"{name} must be a non-empty text")
            return ""
        return value.strip()

    def by_language(self, where: str, value: Any, name: str, required: bool = True) -> Dict[str, str]:
        """{fr: text, en: text}; both languages when required."""
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            self.add(where, f"{name} must be a mapping {{fr: ..., en: ...}}")
            return {}
        unknown = sorted(set(value) - set(LANGUAGES))
        if unknown:
            self.add(where, f"{name} has unknown language(s) {unknown} (expected {list(LANGUAGES)})")
        return {lang: self.text(where, value.get(lang), f"{name}.{lang}") for lang in LANGUAGES}

    def answer_texts(self, where: str, value: Any, name: str) -> Dict[str, AnswerText]:
        """{fr: {short, details}, en: {short, details}}; `details` may be empty."""
        if not isinstance(value, dict):
            self.add(where, f"{name} must be a mapping {{fr: {{short, details}}, en: {{short, details}}}}")
            return {}
        texts: Dict[str, AnswerText] = {}
        for lang in LANGUAGES:
            body = value.get(lang)
            if isinstance(body, str):
                self.add(where, f"{name}.{lang} must be {{short: ..., details: ...}}, not a single text")
                continue
            if not isinstance(body, dict):
                self.add(where, f"{name}.{lang} is missing")
                continue
            unknown = sorted(set(body) - {"short", "details"})
            if unknown:
                self.add(where, f"{name}.{lang} has unknown field(s) {unknown} (expected short, details)")
            details = body.get("details") or ""
            if not isinstance(details, str):
                self.add(where, f"{name}.{lang}.details must be a text")
                details = ""
            texts[lang] = AnswerText(short=self.text(where, body.get("short"), f"{name}.{lang}.short"),
                                     details=details.strip())
        unknown = sorted(set(value) - set(LANGUAGES))
        if unknown:
            self.add(where, f"{name} has unknown language(s) {unknown}")
        return texts

    def links(self, where: str, value: Any) -> Dict[str, List[Link]]:
        if not isinstance(value, dict) or set(value) - set(LANGUAGES):
            self.add(where, "links must be a mapping {fr: [{url, label}], en: [{url, label}]}")
            return {}
        result: Dict[str, List[Link]] = {}
        for lang in LANGUAGES:
            items = value.get(lang)
            if not isinstance(items, list) or not items:
                self.add(where, f"links.{lang} must list the official pages in that language")
                continue
            result[lang] = []
            for index, item in enumerate(items):
                if not isinstance(item, dict) or set(item) != {"url", "label"}:
                    self.add(where, f"links.{lang}[{index}] must be {{url: ..., label: ...}}")
                    continue
                url = self.text(where, item["url"], f"links.{lang}[{index}].url")
                if url and (urlparse(url).scheme != "https" or not urlparse(url).hostname):
                    self.add(where, f"links.{lang}[{index}].url must be an https address: {url}")
                result[lang].append(Link(url=url, label=self.text(where, item["label"], f"links.{lang}[{index}].label")))
        return result

    def review(self, where: str, value: Any) -> Optional[Review]:
        if value is None:
            return None
        if isinstance(value, dict) and True in value:
            # YAML 1.1 reads the bare key `on` as the boolean true.
            value = {("on" if key is True else key): item for key, item in value.items()}
        if not isinstance(value, dict) or set(value) != {"on", "against"}:
            self.add(where, "reviewed must be {on: YYYY-MM-DD, against: [source tags]}")
            return None
        on = value["on"]
        if isinstance(on, str):
            try:
                on = datetime.date.fromisoformat(on)
            except ValueError:
                pass
        if not isinstance(on, datetime.date):
            self.add(where, f"reviewed.on must be a date YYYY-MM-DD, not {value['on']!r}")
            return None
        against = value["against"]
        if not isinstance(against, list) or not against or not all(isinstance(s, str) and s for s in against):
            self.add(where, "reviewed.against must list the source tags the answer was checked against")
            return None
        return Review(on=on, against=list(against))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ContentError(self.problems)


def _question_type(check: _Checker, where_file: str, raw: Any, time_limit_ids: Tuple[str, ...]) -> Optional[QuestionType]:
    if not isinstance(raw, dict):
        check.add(where_file, "every entry of question_types must be a mapping")
        return None
    code = raw.get("code")
    where = f"{where_file}, {code or '(no code)'}"
    missing = [key for key in _QUESTION_KEYS_REQUIRED if key not in raw]
    if missing:
        check.add(where, f"missing field(s) {missing}")
    unknown = sorted(set(raw) - set(_QUESTION_KEYS_REQUIRED) - set(_QUESTION_KEYS_OPTIONAL))
    if unknown:
        check.add(where, f"unknown field(s) {unknown} (a typo? allowed: "
                         f"{list(_QUESTION_KEYS_REQUIRED) + list(_QUESTION_KEYS_OPTIONAL)})")
    if missing:
        return None
    if not isinstance(code, str) or not _CODE.match(code):
        check.add(where, f"code must look like A1 … D12, not {code!r}")
    elif raw["category"] != code[0].lower():
        check.add(where, f"category {raw['category']!r} does not match the code's prefix {code[0].lower()!r}")
    categories = list(load_vocabularies().get("categories") or {})
    if raw["category"] not in categories:
        check.add(where, f"category must be one of {categories} (content/vocabularies.yml)")
    intent = raw["intent"]
    if not isinstance(intent, str) or not _INTENT.match(intent) or (
            isinstance(code, str) and not intent.startswith(f"q_{code.lower()}_")):
        check.add(where, f"intent must be q_{str(code).lower()}_<slug> in snake case, not {intent!r}")
    route = raw["route"]
    if route not in ROUTES:
        check.add(where, f"route must be one of {list(ROUTES)}, not {route!r}")
    handoff = check.by_language(where, raw.get("handoff"), "handoff", required=route in ("BOT_H", "H"))
    insurer_dependent = raw.get("insurer_dependent", False)
    if not isinstance(insurer_dependent, bool):
        check.add(where, "insurer_dependent must be true or false")
        insurer_dependent = False
    insured_elsewhere = {}
    if raw.get("insured_elsewhere") is not None:
        insured_elsewhere = check.answer_texts(where, raw["insured_elsewhere"], "insured_elsewhere")
        if not insurer_dependent:
            check.add(where, "insured_elsewhere is only used when insurer_dependent is true")
    sources = raw["sources"]
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        check.add(where, "sources must list the reference's source tags, e.g. [S41, R6]")
        sources = []
    time_limits = raw.get("time_limits") or []
    if not isinstance(time_limits, list):
        check.add(where, "time_limits must be a list of ids of content/time_limits.yml")
        time_limits = []
    for limit in time_limits:
        if limit not in time_limit_ids:
            check.add(where, f"time_limits: unknown id {limit!r} (content/time_limits.yml has {list(time_limit_ids)})")
    cases = _cases(check, where, raw.get("cases"))
    return QuestionType(
        code=code,
        category=raw["category"],
        intent=intent,
        route=route,
        title=check.by_language(where, raw["title"], "title"),
        legal_basis=check.by_language(where, raw["legal_basis"], "legal_basis"),
        answer=check.answer_texts(where, raw["answer"], "answer"),
        links=check.links(where, raw["links"]),
        sources=list(sources),
        handoff=handoff,
        insurer_dependent=insurer_dependent,
        insured_elsewhere=insured_elsewhere,
        reviewed=check.review(where, raw.get("reviewed")),
        time_limits=list(time_limits),
        cases=cases,
    )


def _cases(check: _Checker, where: str, raw: Any) -> List[Case]:
    """`cases:` [{id, when: {condition: value or [values]}, answer: {fr, en}, links?}]."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        check.add(where, "cases must be a list of {id, when, answer}")
        return []
    cases: List[Case] = []
    for index, item in enumerate(raw):
        if (not isinstance(item, dict) or not {"id", "when"} <= set(item) or ("answer" in item) == ("same_as" in item)
                or set(item) - {"id", "when", "answer", "links", "same_as"}):
            check.add(where, f"cases[{index}] must be {{id, when, answer}} (optionally links) or {{id, when, same_as}}")
            continue
        case_id = item["id"]
        at = f"{where}, case {case_id}"
        if not isinstance(case_id, str) or not _CASE_ID.match(case_id):
            check.add(where, f"cases[{index}].id must be a snake_case name, not {case_id!r}")
        if case_id in {c.id for c in cases}:
            check.add(at, "case defined twice")
        when: Dict[str, Tuple[str, ...]] = {}
        if not isinstance(item["when"], dict) or not item["when"]:
            check.add(at, f"when must map conditions {list(CASE_CONDITIONS)} to values")
        else:
            for condition, value in item["when"].items():
                values = tuple(value) if isinstance(value, list) else (value,)
                if condition not in CASE_CONDITIONS:
                    check.add(at, f"unknown condition {condition!r} (allowed: {list(CASE_CONDITIONS)})")
                    continue
                wrong = [v for v in values if v not in CASE_CONDITIONS[condition]]
                if wrong or not values:
                    check.add(at, f"{condition} must be among {list(CASE_CONDITIONS[condition])}, not {wrong or values}")
                when[condition] = values
        same_as = item.get("same_as")
        if same_as is not None and (not isinstance(same_as, str) or not _CODE.match(same_as)):
            check.add(at, f"same_as must be the code of a question type, not {same_as!r}")
        cases.append(Case(id=str(case_id), when=when,
                          answer=check.answer_texts(at, item["answer"], "answer") if "answer" in item else {},
                          links=check.links(at, item["links"]) if "links" in item else {}, same_as=same_as))
    return cases


@lru_cache(maxsize=None)
def load_answers() -> Dict[str, QuestionType]:
    """All question types, keyed by code (A1 … D8), from content/answers/*.yml (ContentError if malformed)."""
    check = _Checker()
    limit_ids = tuple(load_time_limits())
    answers: Dict[str, QuestionType] = {}
    intents: Dict[str, str] = {}
    for path in sorted((content_dir() / "answers").glob("*.yml")):
        data = _read_yaml(path)
        entries = data.get("question_types")
        if not isinstance(entries, list):
            check.add(_name(path), "expected a list `question_types:`")
            continue
        for raw in entries:
            qt = _question_type(check, _name(path), raw, limit_ids)
            if qt is None:
                continue
            if qt.code in answers:
                check.add(f"{_name(path)}, {qt.code}", "question type defined twice")
            if qt.intent in intents and intents[qt.intent] != qt.code:
                check.add(f"{_name(path)}, {qt.code}", f"intent {qt.intent} is also used by {intents[qt.intent]}")
            answers[qt.code] = qt
            intents[qt.intent] = qt.code
    for qt in answers.values():
        for case in qt.cases:
            target = answers.get(case.same_as or "")
            if case.same_as and (target is None or any(c.same_as for c in target.cases)):
                check.add(f"{qt.code}, case {case.id}",
                          f"same_as {case.same_as!r} must be a question type whose own cases have no same_as")
    check.raise_if_any()
    return answers


@lru_cache(maxsize=None)
def _answers_by_intent() -> Dict[str, QuestionType]:
    return {qt.intent: qt for qt in load_answers().values()}


def answer_by_intent(intent: Optional[str]) -> Optional[QuestionType]:
    return _answers_by_intent().get(intent or "")


@lru_cache(maxsize=None)
def load_time_limits() -> Dict[str, TimeLimit]:
    """content/time_limits.yml: the time limits an answer may state, by id."""
    path = content_dir() / "time_limits.yml"
    check = _Checker()
    limits: Dict[str, TimeLimit] = {}
    raw = _read_yaml(path).get("time_limits") if path.exists() else {}
    if not isinstance(raw, dict):
        raise ContentError([f"{_name(path)}: expected a mapping `time_limits:` of ids"])
    for limit_id, body in raw.items():
        where = f"{_name(path)}, {limit_id}"
        if not isinstance(body, dict):
            check.add(where, "must be a mapping {fr, en, what, basis}")
            continue
        limits[limit_id] = TimeLimit(
            id=limit_id,
            phrase=check.by_language(where, {lang: body.get(lang) for lang in LANGUAGES}, "phrase"),
            what=check.by_language(where, body.get("what"), "what"),
            basis=check.by_language(where, body.get("basis"), "basis"),
        )
    check.raise_if_any()
    return limits


@lru_cache(maxsize=None)
def load_situations() -> Dict[str, Dict[str, Dict[str, AnswerText]]]:
    """content/situations.yml: generic texts for askers insured elsewhere.

    {group (EU_EEA | UK | CH | THIRD): {care_in_france | care_elsewhere: {lang: AnswerText}}};
    empty when the file does not exist.
    """
    path = content_dir() / "situations.yml"
    if not path.exists():
        return {}
    data = _read_yaml(path)
    raw = data.get("insured_elsewhere", data)
    check = _Checker()
    where_file = _name(path)
    situations: Dict[str, Dict[str, Dict[str, AnswerText]]] = {}
    if not isinstance(raw, dict):
        raise ContentError([f"{where_file}: expected a mapping of insurance groups {list(ELSEWHERE_GROUPS)}"])
    unknown = sorted(set(raw) - set(ELSEWHERE_GROUPS))
    if unknown:
        check.add(where_file, f"unknown insurance group(s) {unknown} (expected {list(ELSEWHERE_GROUPS)})")
    for group in ELSEWHERE_GROUPS:
        places = raw.get(group)
        if not isinstance(places, dict):
            check.add(where_file, f"{group} is missing (expected {list(CARE_PLACES)})")
            continue
        unknown = sorted(set(places) - set(CARE_PLACES))
        if unknown:
            check.add(f"{where_file}, {group}", f"unknown place(s) of care {unknown} (expected {list(CARE_PLACES)})")
        situations[group] = {}
        for place in CARE_PLACES:
            if place not in places:
                check.add(f"{where_file}, {group}", f"{place} is missing")
                continue
            situations[group][place] = check.answer_texts(f"{where_file}, {group}", places[place], place)
    check.raise_if_any()
    return situations


@lru_cache(maxsize=None)
def load_glossary() -> dict:
    """content/glossary.yml: FR -> EN terms and the words English answers avoid."""
    path = content_dir() / "glossary.yml"
    return _read_yaml(path) if path.exists() else {}


def glossary_avoid(language: str) -> List[str]:
    return list((load_glossary().get("avoid") or {}).get(language) or [])


@lru_cache(maxsize=None)
def load_vocabularies() -> dict:
    return _read_yaml(content_dir() / "vocabularies.yml")


@lru_cache(maxsize=None)
def load_countries_file() -> dict:
    return _read_yaml(content_dir() / "countries.yml")


@lru_cache(maxsize=None)
def load_situation_terms() -> dict:
    """content/situation_terms.yml: the words that tell the asker's situation (core/situation.py)."""
    return _read_yaml(content_dir() / "situation_terms.yml")


@lru_cache(maxsize=None)
def load_conversation_texts() -> dict:
    """content/conversation_texts.yml: replies to other languages, domestic questions, distress."""
    return _read_yaml(content_dir() / "conversation_texts.yml")


@lru_cache(maxsize=None)
def load_reply_texts() -> dict:
    """content/replies.yml: acknowledgement and default reply texts (FR/EN), by kind then language."""
    return _read_yaml(content_dir() / "replies.yml")


@lru_cache(maxsize=None)
def load_privacy_terms() -> dict:
    """Word lists of the redaction: health terms, first names (content/privacy_terms.yml)."""
    return _read_yaml(content_dir() / "privacy_terms.yml")


@lru_cache(maxsize=None)
def load_coverage_notes() -> Dict[str, Dict[str, Dict[str, str]]]:
    """Short notes of content/countries.yml: {treatment | insurance: {key: {fr, en}}}.

    `treatment` notes say what changes when the care is in that country (for an
    asker insured in France); `insurance` notes what changes when the asker is
    insured there (who decides). Keys: CH, GB, EEA_EFTA, THIRD or one country's
    ISO2 code. The maps stand at the top of the file (or under `coverage_notes:`);
    an older file with one flat map is read as treatment notes.
    """
    data = load_countries_file()
    raw = data.get("coverage_notes") if "coverage_notes" in data else {
        kind: data[kind] for kind in NOTE_KINDS if kind in data}
    where = "content/countries.yml"
    if not isinstance(raw, dict):
        raise ContentError([f"{where}: coverage_notes must be a mapping {{treatment: ..., insurance: ...}}"])
    if raw and not set(raw) & set(NOTE_KINDS):
        raw = {"treatment": raw}
    check = _Checker()
    unknown = sorted(set(raw) - set(NOTE_KINDS))
    if unknown:
        check.add(where, f"unknown kind(s) of note {unknown} (expected {list(NOTE_KINDS)})")
    iso_codes = {c.get("iso2") for c in data.get("countries") or [] if isinstance(c, dict)}
    notes: Dict[str, Dict[str, Dict[str, str]]] = {}
    for kind in NOTE_KINDS:
        entries = raw.get(kind) or {}
        if not isinstance(entries, dict):
            check.add(f"{where}, {kind}", f"expected a mapping of keys {list(NOTE_GROUP_KEYS)} or ISO2 codes")
            continue
        notes[kind] = {}
        for key, body in entries.items():
            place = f"{where}, {kind}.{key}"
            if key not in NOTE_GROUP_KEYS and key not in iso_codes:
                check.add(place, f"unknown key (expected one of {list(NOTE_GROUP_KEYS)} or a country's ISO2 code)")
                continue
            if not isinstance(body, dict):
                check.add(place, "must be {fr: ..., en: ..., source: ...}")
                continue
            extra = sorted(set(body) - set(LANGUAGES) - {"source"})
            if extra:
                check.add(place, f"unknown field(s) {extra}")
            texts = check.by_language(place, {lang: body.get(lang) for lang in LANGUAGES}, "note")
            notes[kind][key] = {lang: " ".join(text.split()) for lang, text in texts.items()}
    check.raise_if_any()
    return notes


def clear_caches() -> None:
    """Forget what was loaded (tests that point PCN_CONTENT_DIR elsewhere)."""
    for function in (load_answers, _answers_by_intent, load_time_limits, load_situations, load_glossary,
                     load_vocabularies, load_countries_file, load_coverage_notes, load_situation_terms,
                     load_conversation_texts, load_reply_texts, load_privacy_terms):
        function.cache_clear()
