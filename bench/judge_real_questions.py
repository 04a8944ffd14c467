"""Judge of the desk on questions real people wrote (bench/real_questions/).

Each question goes through the REST channel as the asker would type it, with a
fresh sender, ``metadata.language`` = the page language (fr for a French asker,
en otherwise). If the desk first asks one clarifying question (where insured,
planned or not, where treated), the judge answers it ONCE from the item's
``clarify`` (the matching button, else typed text). The reply turn is then
judged against the item's ``expected``:

* handling  — what the desk did (answer, answer + offer of an adviser, hand-off,
              clarifying question, domestic redirect, emergency, other-language
              hand-off), read from the visible reply;
* key_facts — every one must be found in the reply (bubbles and ``custom``
              details), case- and accent-insensitive;
* next_step — must be in the VISIBLE text bubbles (what the asker does now);
* forbidden — none may be found (legally wrong for this asker); a clause stating a time limit the asker
              has to act within (contest, appeal, claim) is not looked at: it is the law, not a promise;
* language  — the reply is in the asker's language (issue 10: a German, Spanish,
              Italian, Polish, Dutch or Portuguese asker gets the notice in that
              language; its first bubble is judged).

Verdict: ``correct`` when all five hold; ``wrong`` when a forbidden statement is
made, the desk did not understand (fallback / no reply), or both the handling
and at least half of the key facts are missed; ``partial`` otherwise.

    .venv/bin/python bench/judge_real_questions.py --set dev [--url http://127.0.0.1:5005]
        [--only rq-001] [--json out.json] [--write] [--token TOKEN]

Without --url the judge starts its own desk (tests/servers.py:start_desk) on a
temporary SQLite database and spool (never data/), from models/pcn.tar.gz.
--write stores the aggregate figures in bench/RESULTS.md ("Real questions (dev)"
or "Real questions (holdout)"). The holdout set is sealed: only aggregates are
printed for it, never the questions or per-question rows.
"""
from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import unicodedata
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SET_DIR = ROOT / "bench" / "real_questions"
LANGUAGES = ("fr", "en", "de", "es", "it", "pl", "nl", "pt")
HANDLINGS = ("answer", "answer_then_offer", "handoff", "clarify_then_answer", "redirect_domestic",
             "emergency", "other_language_handoff")
ROUTES = ("directive", "regulation", "both", "none")
CLARIFY_KEYS = ("insured_country", "care_timing", "treatment_country")
ITEM_KEYS = {"id", "kind", "variant_of", "changed", "source", "source_title", "retrieved", "language", "topic",
             "text", "situation", "expected", "trace"}
EXPECTED_KEYS = {"handling", "codes", "route", "key_facts", "next_step", "forbidden", "clarify"}

# What the judge accepts as the desk's handling, for each expected handling. An extra
# offer of an adviser after a correct answer is noise, not an error; a hand-off may
# come with the general rule before the offer.
ACCEPTED_HANDLING = {
    "answer": {"answer", "answer_then_offer"},
    "answer_then_offer": {"answer_then_offer"},
    "handoff": {"handoff", "answer_then_offer"},
    "clarify_then_answer": {"answer", "answer_then_offer"},   # and a clarifying question first
    "redirect_domestic": {"redirect_domestic"},
    "emergency": {"emergency"},
    "other_language_handoff": {"other_language_handoff"},
}


# --------------------------------------------------------------------------- text
def fold(text: str) -> str:
    """Lower case, no accents, typographic apostrophes as "'" (patterns are folded alike)."""
    text = unicodedata.normalize("NFD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("’", "'").replace("‘", "'").replace("œ", "oe").lower()


def compile_pattern(pattern: str) -> re.Pattern:
    return re.compile(fold(pattern), re.S)


def any_match(patterns: Sequence[str], text: str) -> bool:
    folded = fold(text)
    return any(compile_pattern(p).search(folded) for p in patterns)


# A time limit the ASKER has to act within ("contest before the CRA within 2 months", "claim within
# 2 years") is a legal rule the answers must state (issue 9), never a delay promised for a file: the
# clauses that state one are left out when forbidden statements are looked for.
_TIME_LIMIT_TO_ACT = re.compile(
    r"recours|contest|\bcra\b|commission de recours|appeal|challenge|reclamation|\bclaim|demandez le remboursement"
    r"|saisi[rs]|pour agir|to act\b")


def without_time_limits_to_act(text: str) -> str:
    clauses = re.split(r"[.;:\n]+", fold(text))
    return ". ".join(c for c in clauses if not _TIME_LIMIT_TO_ACT.search(c))


def words(text: str) -> int:
    return len(re.findall(r"[^\W_]+(?:[-'][^\W_]+)*", text or ""))


# Signals read from the visible reply. They name what the desk did, whatever the
# exact wording of a release, in French and in English.
OFFER_RE = [r"agent du pcn", r"conseill[eè]re? du pcn", r"conseiller", r"recontact", r"pcn agent",
            r"ncp adviser", r"adviser", r"advisor", r"would you like to be contacted",
            r"souhaitez-vous etre (re)?contacte", r"repondre par e-?mail", r"answer you by e-?mail"]
FALLBACK_RE = [r"pas sur d'avoir compris", r"not sure i understood", r"je ne sais pas repondre moi-meme",
               r"can't answer this question myself", r"cannot answer this question myself",
               r"momentanement indisponible", r"temporarily unavailable"]
EMERGENCY_RE = [r"(appelez|composez|call|dial)[^.]{0,40}\b(15|112|999)\b", r"\b(15|112)\b[^.]{0,30}(samu|urgence|emergency)"]
OTHER_LANGUAGE_RE = [r"francais ou (en )?anglais", r"anglais ou (en )?francais", r"french or english",
                     r"english or french", r"francais et (en )?anglais", r"french and english",
                     r"only (answer|reply|speak) in (french|english)"]
# The channel refused the message (too long, too fast, unreadable): the asker got no answer.
REJECTED_RE = [r"message est trop long", r"message is too long", r"trop de messages", r"too many messages",
               r"requete invalide", r"invalid request", r"message est vide", r"message is empty"]
DOMESTIC_RE = [r"\bameli\b", r"\b3646\b", r"\bmutuelle\b", r"your (health )?insurance fund", r"votre caisse"]
ANSWER_MARK_RE = [r"base legale", r"legal basis", r"^sources?\b", r"\bsources? ?:"]
# Bubbles that carry no answer: greeting, feedback, statistics questions, offers, notes.
BOILERPLATE_RE = OFFER_RE + FALLBACK_RE + [
    r"cette reponse vous a-t-elle ete utile", r"was this answer helpful", r"qui vous etes", r"who you are",
    r"dans quel pays etes-vous assure ou etabli", r"in which country are you insured or established",
    r"ne saisissez pas ici", r"please do not type your", r"pour en savoir plus", r"to learn more",
    r"^bonjour ! je suis l'assistant", r"^hello! i am the assistant",
]
SUBSTANTIVE_WORDS = 25

# A clarifying question, by what it asks.
CLARIFY_QUESTION_RE = {
    "insured_country": [r"assure", r"insured", r"which country pays", r"quel pays (prend|paie)"],
    "care_timing": [r"programm", r"planned", r"pendant (un|votre) sejour", r"during (a|your) stay", r"imprevu",
                    r"unplanned"],
    "treatment_country": [r"(ou|dans quel pays).{0,40}(soign|traite|soins)", r"where.{0,40}(treat|care)",
                          r"country of (care|treatment)"],
}
TIMING_WORDS = {
    "planned": [r"programm", r"planned", r"pr[eé]vu", r"in order to", r"pour (vous|me) faire soigner"],
    "unplanned": [r"imprevu", r"unplanned", r"urgen", r"pendant (un|votre|mon) sejour", r"during (a|your|my) stay",
                  r"necessaire", r"necessary"],
}
DONT_KNOW = {"fr": "Je ne sais pas.", "en": "I don't know."}


# --------------------------------------------------------------------------- reply
@dataclass
class Reply:
    """One turn of the desk: the bot messages the REST channel returned."""
    messages: List[Dict[str, Any]]

    @property
    def texts(self) -> List[str]:
        return [m["text"] for m in self.messages if isinstance(m.get("text"), str) and m["text"].strip()]

    @property
    def custom_texts(self) -> List[str]:
        out: List[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, dict):
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)

        for m in self.messages:
            if m.get("custom") is not None:
                walk(m["custom"])
        return out

    @property
    def buttons(self) -> List[Dict[str, str]]:
        return [b for m in self.messages for b in (m.get("buttons") or []) if isinstance(b, dict)]

    @property
    def visible(self) -> str:
        return "\n".join(self.texts)

    @property
    def everything(self) -> str:
        return "\n".join(self.texts + self.custom_texts)

    @property
    def has_answer_payload(self) -> bool:
        """A `custom` bubble carrying details/sources is an answer whatever its text."""
        return any(isinstance(m.get("custom"), dict) and ({"details", "sources", "legal_basis"} & set(m["custom"]))
                   for m in self.messages)


def substantive_words(reply: Reply) -> int:
    """Words of the bubbles that are not greeting, offers, feedback or statistics questions."""
    return sum(words(t) for t in reply.texts if not any_match(BOILERPLATE_RE, t))


@dataclass
class Signals:
    answer: bool
    offer: bool
    fallback: bool
    emergency: bool
    other_language: bool
    domestic: bool


def signals(reply: Reply) -> Signals:
    visible = reply.visible
    fallback = any_match(FALLBACK_RE, visible)
    answer = (reply.has_answer_payload or any_match(ANSWER_MARK_RE, "\n".join(reply.texts + reply.custom_texts))
              or substantive_words(reply) >= SUBSTANTIVE_WORDS)
    # The offer of an adviser is a question (or a button) — not a mention of an adviser in an answer.
    offer = any(any_match(OFFER_RE, t) and (t.rstrip().endswith("?") or m.get("buttons"))
                for m in reply.messages for t in [m.get("text") or ""]) or any(
        str(b.get("payload", "")).startswith("/request_human") for b in reply.buttons)
    return Signals(
        answer=answer and not fallback,
        offer=offer and not fallback,
        fallback=fallback and not answer,
        # An emergency reply says 15/112 in its first sentence; "no medical advice; if urgent, call 112" is not one.
        emergency=bool(reply.texts) and any_match(EMERGENCY_RE, re.split(r"(?<=[.!?])\s", reply.texts[0])[0]),
        other_language=any_match(OTHER_LANGUAGE_RE, visible),
        domestic=any_match(DOMESTIC_RE, visible),
    )


def observed_handling(reply: Reply) -> str:
    """What the desk did in the reply turn, in the vocabulary of `expected.handling`."""
    if not reply.texts and not reply.custom_texts:
        return "none"
    if any_match(REJECTED_RE, reply.visible):
        return "rejected"
    s = signals(reply)
    if s.emergency:
        return "emergency"
    if s.other_language:
        return "other_language_handoff"
    if s.fallback:
        return "fallback"
    if s.answer and s.offer:
        return "answer_then_offer"
    if s.answer:
        return "redirect_domestic" if s.domestic and substantive_words(reply) < 2 * SUBSTANTIVE_WORDS \
            and not any_match(ANSWER_MARK_RE, reply.everything) else "answer"
    if s.offer:
        return "handoff"
    if s.domestic:
        return "redirect_domestic"
    return "other"


# --------------------------------------------------------------------------- clarify
def clarify_kind(reply: Reply) -> Optional[str]:
    """Which deciding fact the desk asks for, if the turn is a clarifying question (else None).

    A clarifying question is a question with buttons that asks where the asker is
    insured, whether the care is planned, or where it is given, in a turn that
    carries no answer, no fallback, no emergency and no other-language notice.
    """
    s = signals(reply)
    if s.answer or s.fallback or s.emergency or s.other_language:
        return None
    for message in reply.messages:
        text = message.get("text") or ""
        if not message.get("buttons") or "?" not in text:
            continue
        for kind, patterns in CLARIFY_QUESTION_RE.items():
            if any_match(patterns, text):
                return kind
    return None


def _country_names(iso2: str) -> List[str]:
    names = [iso2]
    try:
        from core.countries import country
        entry = country(iso2)
        names += [n for n in (entry.get("names") or {}).values() if n]
    except Exception:  # an unknown code still matches by its ISO letters
        pass
    return names


def _button_matches(button: Dict[str, str], kind: str, value: str) -> bool:
    title = fold(str(button.get("title", "")))
    payload = str(button.get("payload", ""))
    if kind in ("insured_country", "treatment_country"):
        if re.search(rf'"{re.escape(value)}"', payload):
            return True
        return any(fold(name) == title or (len(name) > 3 and fold(name) in title) for name in _country_names(value))
    if kind == "care_timing":
        return any_match(TIMING_WORDS.get(value, []), title + " " + payload)
    return False


def clarify_answer(reply: Reply, clarify: Dict[str, str], language: str) -> Optional[Dict[str, str]]:
    """What the asker sends back to a clarifying question: a button payload, typed text, or None.

    The button matching the asker's fact for the kind asked is chosen; failing that
    the fact is typed as text; an asker who does not know (no such fact) says so.
    """
    kind = clarify_kind(reply)
    if kind is None:
        return None
    value = clarify.get(kind)
    if value:
        for button in reply.buttons:
            if _button_matches(button, kind, value):
                return {"message": str(button.get("payload") or button.get("title")), "via": f"button:{kind}"}
    page = "fr" if language == "fr" else "en"
    if value and kind in ("insured_country", "treatment_country"):
        names = _country_names(value)
        try:
            from core.countries import country
            names = [country(value)["names"][page]]
        except Exception:
            pass
        return {"message": names[0], "via": f"text:{kind}"}
    if value and kind == "care_timing":
        typed = {"planned": {"fr": "C'est programmé.", "en": "It is planned."},
                 "unplanned": {"fr": "C'était imprévu, pendant un séjour.", "en": "It was unplanned, during a stay."}}
        return {"message": typed[value][page], "via": "text:care_timing"}
    return {"message": DONT_KNOW[page], "via": "dont_know"}


# --------------------------------------------------------------------------- verdict
@dataclass
class Verdict:
    id: str
    kind: str
    language: str
    topic: str
    expected_handling: str
    handling: str
    clarified: bool
    handling_ok: bool
    facts_hit: int
    facts_total: int
    missing_facts: List[str]
    next_step_ok: bool
    forbidden_hit: List[str]
    reply_language: str
    language_ok: bool
    words: int
    bubbles: int
    verdict: str
    intents: List[str] = field(default_factory=list)


def reply_language(reply: Reply, first_bubble_only: bool = False) -> str:
    from core.language import detect_language
    texts = [t for t in reply.texts if not re.match(r"^\s*(https?://|www\.)", t)]
    text = "\n".join(texts[:1] if first_bubble_only else texts)
    return detect_language(text) if text.strip() else "none"


def expected_reply_languages(language: str) -> set:
    """Issue 10: messages in another language are answered *in that language* (a short
    notice and the hand-off), French and English askers in their language."""
    return {language}


def judge(item: Dict[str, Any], turns: List[Reply], intents: Optional[List[str]] = None) -> Verdict:
    """The verdict on one question from the desk's turns (the first, and the one after a clarification)."""
    expected = item["expected"]
    clarified = len(turns) > 1
    answer_turn = turns[-1]
    handling = observed_handling(answer_turn)
    accepted = ACCEPTED_HANDLING[expected["handling"]]
    handling_ok = handling in accepted and (clarified or expected["handling"] != "clarify_then_answer")

    everything = "\n".join(r.everything for r in turns)
    facts = expected.get("key_facts") or []
    missing = [f.get("why", "|".join(f["any"])) for f in facts if not any_match(f["any"], everything)]
    next_step = expected.get("next_step")
    next_ok = next_step is None or any_match(next_step["any"], answer_turn.visible)
    statements = without_time_limits_to_act(everything)
    forbidden = [f.get("why", f["pattern"]) for f in (expected.get("forbidden") or [])
                 if any_match([f["pattern"]], statements)]
    # Another language: the notice in the asker's language comes first (then FR/EN lines).
    lang = reply_language(answer_turn, first_bubble_only=item["language"] not in ("fr", "en"))
    lang_ok = lang in expected_reply_languages(item["language"])

    facts_total = len(facts)
    facts_hit = facts_total - len(missing)
    all_ok = handling_ok and not missing and next_ok and not forbidden and lang_ok
    if all_ok:
        verdict = "correct"
    elif forbidden or handling in ("fallback", "none", "other", "rejected") or (
            not handling_ok and facts_total and facts_hit * 2 < facts_total):
        verdict = "wrong"
    else:
        verdict = "partial"
    return Verdict(
        id=item["id"], kind=item.get("kind", "real"), language=item["language"], topic=item.get("topic", "other"),
        expected_handling=expected["handling"], handling=handling + ("*" if clarified else ""),
        clarified=clarified, handling_ok=handling_ok, facts_hit=facts_hit, facts_total=facts_total,
        missing_facts=missing, next_step_ok=next_ok, forbidden_hit=forbidden, reply_language=lang,
        language_ok=lang_ok, words=sum(words(t) for t in answer_turn.texts), bubbles=len(answer_turn.texts),
        verdict=verdict, intents=list(intents or []),
    )


# --------------------------------------------------------------------------- data set
class SetError(ValueError):
    pass


def load_set(name: str, directory: Path = SET_DIR) -> List[Dict[str, Any]]:
    path = directory / f"{name}.yml"
    if not path.exists():
        raise SetError(f"{path} does not exist")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = data.get("questions") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise SetError(f"{path}: expected a list of questions under 'questions:'")
    validate(items, name)
    return items


def validate(items: List[Dict[str, Any]], name: str) -> None:
    """Clear messages for a malformed item: the set is edited by hand."""
    seen = set()
    for n, item in enumerate(items, 1):
        where = f"{name} item {n} ({item.get('id', '?')})"
        if not isinstance(item, dict):
            raise SetError(f"{where}: not a mapping")
        unknown = set(item) - ITEM_KEYS
        if unknown:
            raise SetError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("id", "kind", "source", "language", "text", "situation", "expected", "topic"):
            if not item.get(key):
                raise SetError(f"{where}: '{key}' is missing")
        if item["id"] in seen:
            raise SetError(f"{where}: duplicate id")
        seen.add(item["id"])
        if item["kind"] not in ("real", "variant"):
            raise SetError(f"{where}: kind must be real or variant")
        if item["kind"] == "variant" and not item.get("variant_of"):
            raise SetError(f"{where}: a variant names the real question it comes from (variant_of)")
        if item["kind"] == "variant" and name == "holdout":
            raise SetError(f"{where}: variants go to dev only")
        if item["language"] not in LANGUAGES:
            raise SetError(f"{where}: language must be one of {LANGUAGES}")
        exp = item["expected"]
        unknown = set(exp) - EXPECTED_KEYS
        if unknown:
            raise SetError(f"{where}: unknown expected keys {sorted(unknown)}")
        if exp.get("handling") not in HANDLINGS:
            raise SetError(f"{where}: expected.handling must be one of {HANDLINGS}")
        if exp.get("route") not in ROUTES:
            raise SetError(f"{where}: expected.route must be one of {ROUTES}")
        if not isinstance(exp.get("codes"), list):
            raise SetError(f"{where}: expected.codes must be a list")
        for fact in exp.get("key_facts") or []:
            if not fact.get("any") or not fact.get("why"):
                raise SetError(f"{where}: each key fact has 'any' (regexes) and 'why'")
            for p in fact["any"]:
                _check_regex(p, where)
        if exp.get("next_step"):
            for p in exp["next_step"]["any"]:
                _check_regex(p, where)
        for f in exp.get("forbidden") or []:
            if not f.get("pattern") or not f.get("why"):
                raise SetError(f"{where}: each forbidden entry has 'pattern' and 'why'")
            _check_regex(f["pattern"], where)
        unknown = set(exp.get("clarify") or {}) - set(CLARIFY_KEYS)
        if unknown:
            raise SetError(f"{where}: clarify keys are {CLARIFY_KEYS}, not {sorted(unknown)}")


def _check_regex(pattern: str, where: str) -> None:
    try:
        compile_pattern(pattern)
    except re.error as error:
        raise SetError(f"{where}: bad regex {pattern!r}: {error}") from None


# --------------------------------------------------------------------------- desk
Sender = Callable[[str, str, str], List[Dict[str, Any]]]


def rest_sender(url: str, timeout: float = 60, client_header: Optional[str] = None) -> Sender:
    """Posts one message to the REST channel; an HTTP error's JSON body is the desk's reply too.

    With `client_header` (the desk's trusted proxy header), each conversation comes from its own
    address, as real askers do: the desk's per-client rate limit then applies per asker."""
    endpoint = url.rstrip("/") + "/webhooks/rest/webhook"

    def send(sender: str, message: str, language: str) -> List[Dict[str, Any]]:
        body = json.dumps({"sender": sender, "message": message,
                           "metadata": {"language": language, "channel": "rest"}}).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if client_header:
            from tests.servers import client_address

            headers[client_header] = client_address(sender)
        request = urllib.request.Request(endpoint, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read() or b"[]")
        except urllib.error.HTTPError as error:   # 413 "too long", 429...: the channel answers in JSON
            try:
                return json.loads(error.read() or b"[]")
            except ValueError:
                return [{"text": f"HTTP {error.code}"}]

    return send


def tracker_intents(url: str, token: Optional[str], sender: str) -> List[str]:
    """Intents Rasa predicted for the user's turns (diagnostics only; needs the API token)."""
    if not token:
        return []
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/conversations/{sender}/tracker?token={token}",
                                    timeout=10) as response:
            tracker = json.loads(response.read())
    except Exception:
        return []
    return [(e.get("parse_data") or {}).get("intent", {}).get("name", "")
            for e in tracker.get("events", []) if e.get("event") == "user"]


def ask(item: Dict[str, Any], send: Sender) -> tuple[List[Reply], str]:
    """One conversation: the question, then at most one answer to a clarifying question."""
    sender = f"realq-{item['id']}-{uuid.uuid4().hex[:8]}"
    page = "fr" if item["language"] == "fr" else "en"
    first = Reply(send(sender, item["text"].strip(), page))
    turns = [first]
    answer = clarify_answer(first, (item["expected"].get("clarify") or {}), item["language"])
    if answer is not None:
        turns.append(Reply(send(sender, answer["message"], page)))
    return turns, sender


# --------------------------------------------------------------------------- report
def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.0f} %" if d else "–"


def summary_rows(verdicts: Sequence[Verdict], key: str) -> List[str]:
    groups: Dict[str, List[Verdict]] = defaultdict(list)
    for v in verdicts:
        groups[getattr(v, key)].append(v)
    rows = []
    for name in sorted(groups):
        vs = groups[name]
        c = Counter(v.verdict for v in vs)
        rows.append(f"| {name} | {len(vs)} | {c['correct']} ({pct(c['correct'], len(vs))}) | {c['partial']} | "
                    f"{c['wrong']} |")
    return rows


def aggregate(verdicts: Sequence[Verdict]) -> Dict[str, Any]:
    def block(vs: Sequence[Verdict]) -> Dict[str, Any]:
        c = Counter(v.verdict for v in vs)
        n = len(vs)
        return {
            "questions": n, "correct": c["correct"], "partial": c["partial"], "wrong": c["wrong"],
            "correct_pct": round(100 * c["correct"] / n, 1) if n else None,
            "handling_ok": sum(v.handling_ok for v in vs),
            "key_facts": f"{sum(v.facts_hit for v in vs)}/{sum(v.facts_total for v in vs)}",
            "next_step_ok": sum(v.next_step_ok for v in vs),
            "forbidden": sum(bool(v.forbidden_hit) for v in vs),
            "language_ok": sum(v.language_ok for v in vs),
            "median_words": sorted(v.words for v in vs)[n // 2] if n else None,
            "median_bubbles": sorted(v.bubbles for v in vs)[n // 2] if n else None,
        }

    real = [v for v in verdicts if v.kind == "real"]
    variants = [v for v in verdicts if v.kind == "variant"]
    return {"real": block(real), "variants": block(variants) if variants else None}


def render(verdicts: Sequence[Verdict], set_name: str, sealed: bool) -> str:
    lines: List[str] = []
    if not sealed:
        lines += ["| id | kind | lang | topic | expected | observed | facts | next | forbidden | reply | words | "
                  "bubbles | verdict |", "|" + "---|" * 13]
        for v in verdicts:
            lines.append(
                f"| {v.id} | {v.kind} | {v.language} | {v.topic} | {v.expected_handling} | {v.handling} | "
                f"{v.facts_hit}/{v.facts_total} | {'yes' if v.next_step_ok else 'no'} | "
                f"{'YES' if v.forbidden_hit else '-'} | {v.reply_language} | {v.words} | {v.bubbles} | {v.verdict} |")
        lines.append("")
    agg = aggregate(verdicts)
    for label, block in (("real questions", agg["real"]), ("variants", agg["variants"])):
        if not block:
            continue
        lines.append(
            f"{set_name} — {label}: {block['correct']}/{block['questions']} correct ({block['correct_pct']} %), "
            f"{block['partial']} partial, {block['wrong']} wrong; handling right {block['handling_ok']}, "
            f"key facts {block['key_facts']}, next step {block['next_step_ok']}, forbidden {block['forbidden']}, "
            f"reply language right {block['language_ok']}; median {block['median_words']} words, "
            f"{block['median_bubbles']} bubbles.")
    # The sealed holdout is too small for a breakdown that would not describe single questions.
    for key, title in (() if sealed else (("topic", "topic"), ("language", "language"))):
        real = [v for v in verdicts if v.kind == "real"]
        lines += ["", f"| {title} (real) | questions | correct | partial | wrong |", "|---|---:|---:|---:|---:|"]
        lines += summary_rows(real, key)
    return "\n".join(lines)


def results_section(verdicts: Sequence[Verdict], set_name: str, command: str, sealed: bool = False) -> str:
    agg = aggregate(verdicts)
    lines = [f"Command: `{command}` (own desk: trained model models/pcn.tar.gz, temporary SQLite database). "
             f"Date: {datetime.date.today().isoformat()}. Judge and rules: bench/real_questions/README.md.", ""]
    lines += ["| questions | count | correct | partial | wrong | handling right | key facts | next step | "
              "forbidden said | reply language right | median words | median bubbles |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, block in (("real", agg["real"]), ("variants", agg["variants"])):
        if block:
            lines.append(f"| {label} | {block['questions']} | {block['correct']} ({block['correct_pct']} %) | "
                         f"{block['partial']} | {block['wrong']} | {block['handling_ok']} | {block['key_facts']} | "
                         f"{block['next_step_ok']} | {block['forbidden']} | {block['language_ok']} | "
                         f"{block['median_words']} | {block['median_bubbles']} |")
    real = [v for v in verdicts if v.kind == "real"]
    for key in (() if sealed else ("topic", "language")):
        lines += ["", f"| {key} (real) | questions | correct | partial | wrong |", "|---|---:|---:|---:|---:|"]
        lines += summary_rows(real, key)
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def run(items: Sequence[Dict[str, Any]], url: str, token: Optional[str],
        client_header: Optional[str] = None) -> List[Verdict]:
    send = rest_sender(url, client_header=client_header)
    verdicts = []
    for item in items:
        turns, sender = ask(item, send)
        verdicts.append(judge(item, turns, tracker_intents(url, token, sender)))
    return verdicts


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("dev", "holdout"), default="dev")
    parser.add_argument("--url", help="a running desk (Rasa server); default: start one on a temporary database")
    parser.add_argument("--token", help="Rasa API token, to report predicted intents (diagnostics)")
    parser.add_argument("--client-header", help="with --url: the desk's trusted proxy header (PCN_TRUSTED_PROXY_HEADER),"
                        " to send each asker from its own address; the judge's own desk trusts X-Forwarded-For")
    parser.add_argument("--only", action="append", help="judge only this id (repeatable)")
    parser.add_argument("--json", help="write every verdict (dev) or the aggregates (holdout) to this file")
    parser.add_argument("--write", action="store_true", help="store the aggregates in bench/RESULTS.md")
    args = parser.parse_args(argv)

    try:
        items = load_set(args.set)
    except SetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.only:
        items = [i for i in items if i["id"] in set(args.only)]
        if not items:
            print(f"error: no question with id {args.only} in {args.set}", file=sys.stderr)
            return 2
    sealed = args.set == "holdout"

    desk = None
    url, token, client_header = args.url, args.token, args.client_header
    if not url:
        from tests.servers import PEOPLE_HEADER, TOKEN, start_desk
        client_header = PEOPLE_HEADER
        desk = start_desk(web=False, many_people=True)
        url, token = desk.rasa_url, TOKEN
    try:
        verdicts = run(items, url, token, client_header)
    finally:
        if desk is not None:
            desk.stop()

    print(render(verdicts, args.set, sealed))
    if args.json:
        payload = {"set": args.set, "aggregate": aggregate(verdicts)}
        if not sealed:
            payload["verdicts"] = [asdict(v) for v in verdicts]
        Path(args.json).write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.write:
        if args.only:
            print("error: --write records the whole set, not --only", file=sys.stderr)
            return 2
        from bench.results import replace_section
        command = ".venv/bin/python bench/judge_real_questions.py --set " + args.set + " --write"
        replace_section(f"Real questions ({args.set})", results_section(verdicts, args.set, command, sealed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
