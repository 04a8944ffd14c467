"""What the bilan counts as a *request* (« demande individuelle »): the written definition.

A session (an enquiry) is a request when

* a ticket was opened for it (the requester asked for an agent, wrote an
  e-mail, or an agent opened one from a call or a letter), or
* it was recorded by an agent (phone, letter, walk-in) or came by e-mail, or
* it holds at least one **substantive question**: a message the assistant
  logged as a question that carries real words once markup, links, template
  expressions, spreadsheet formulas and redaction placeholders are removed —
  at least one word of three letters or a form code (S2, E112) when the
  assistant recognised a question type, at least two words otherwise — and
  that is not only greetings, thanks or test words.

Every other session is excluded from the requests and counted apart, by reason
(``EXCLUSIONS``): ``test`` (a test conversation: its id starts with one of
``PCN_TEST_SENDER_PREFIXES``), ``spam`` (an agent marked it as a test or
unwanted), ``empty`` (no question at all: an opened widget, greetings or
thanks only) and ``garbage`` (messages, but none substantive: "bonjour ?",
"test", ``<script>…``, ``=HYPERLINK(…)``).

Pure Python; used where enquiries are written (db/repositories/enquiries.py),
by the demo generator and by the migration that backfills old rows.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Optional, Tuple

from core import settings

REQUEST = "request"
EXCLUSIONS = ("test", "spam", "empty", "garbage")
# Channels whose enquiries an agent or a mail created: a request by construction.
AGENT_CHANNELS = frozenset({"email", "phone", "letter", "walk_in"})

# Removed before counting words: HTML/XML tags, template expressions, links,
# redaction placeholders ("[NIR]") and function calls written without a space ("alert(1)").
_NOISE = re.compile(
    r"<[^>]*>|\{\{.*?\}\}|\$\{.*?\}|<%.*?%>|\b(?:https?|javascript|data|vbscript):\S*|\bwww\.\S+"
    r"|\[[A-ZÉ_]+\]|\b[A-Za-z_][\w.]*\([^)]*\)",
    re.I | re.S)
# A spreadsheet formula or an arithmetic payload: "=HYPERLINK(...)", "@SUM(1+1)", "+1+1", "-2+3+cmd|…".
_FORMULA = re.compile(r"^\s*[=+\-@]\s*(?:[A-Za-z_][\w.]*\s*\(|[\d\s+\-*/().]+(?:$|[+\-*/|]))")
_WORD = re.compile(r"[^\W\d_]+")
_FORM_CODE = re.compile(r"\b[A-Za-z]{1,2}\d{1,4}\b")    # S1, S2, E112, S3125
# Words that carry no question (accent-folded, lower case).
_NOT_CONTENT = frozenset("""
bonjour bonsoir salut coucou hello hi hey hallo hola ciao merci thanks thank you thx ok okay oui non yes no
test tests testing essai essais bla blah lol mdr asdf qwerty azerty foo bar baz toto titi tata xxx aaa
alert script onerror onload img src svg iframe cmd calc sum hyperlink
""".split())


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def is_substantive(text: Optional[str], recognised: bool = False) -> bool:
    """Does this logged message carry a real question? (see the module docstring)"""
    if not text or not text.strip():
        return False
    if _FORMULA.match(text):
        return False
    rest = _NOISE.sub(" ", text)
    words = [w for w in _WORD.findall(_fold(rest)) if len(w) >= 2 and w not in _NOT_CONTENT]
    if recognised:
        return any(len(w) >= 3 for w in words) or bool(_FORM_CODE.search(rest))
    return len(words) >= 2


def test_prefixes() -> Tuple[str, ...]:
    raw = settings.get("PCN_TEST_SENDER_PREFIXES") or ""
    return tuple(p for p in raw.replace(",", " ").split() if p)


def is_test_conversation(conversation_id: Optional[str]) -> bool:
    return bool(conversation_id) and str(conversation_id).startswith(test_prefixes() or ("\0",))


def classify(*, channel: Optional[str], conversation_id: Optional[str], has_ticket: bool,
             questions: Iterable[Tuple[Optional[str], bool]], current: Optional[str] = None) -> str:
    """``REQUEST`` when the enquiry is a request, else the reason it is not (``EXCLUSIONS``).

    ``questions``: ``(text, recognised)`` of each logged question (``recognised``:
    the assistant found a question type). ``current``: the stored value; an
    agent's ``spam`` mark is kept.
    """
    if current == "spam":
        return "spam"
    if is_test_conversation(conversation_id):
        return "test"
    if has_ticket or channel in AGENT_CHANNELS:
        return REQUEST
    seen = False
    for text, recognised in questions:
        seen = True
        if is_substantive(text, recognised):
            return REQUEST
    return "garbage" if seen else "empty"
