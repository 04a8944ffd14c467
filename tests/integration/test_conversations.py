"""The assistant end to end through Rasa's REST channel: a real Rasa server, a
real action server and a real (temporary) database."""
from __future__ import annotations

import json
import re
import uuid

import pytest
import sqlalchemy as sa
from tests.waiting import wait_until

from actions.answer_text import MAX_FIRST_BUBBLE_WORDS, words

pytestmark = pytest.mark.integration


def new_sender() -> str:
    return "test-" + uuid.uuid4().hex[:12]


def texts(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def payloads(replies) -> list:
    return [b["payload"] for r in replies for b in r.get("buttons", [])]


def wait_rows(desk, sql: str, params: dict, predicate=lambda rows: bool(rows), timeout: float = 15.0):
    """The enquiry log is written off the reply path: poll until it shows up."""
    engine = sa.create_engine(desk.database_url, future=True)

    def rows():
        with engine.connect() as connection:
            return connection.execute(sa.text(sql), params).mappings().all()
    try:
        return wait_until(lambda: predicate(rows()) and rows(), timeout, sql)
    except TimeoutError:
        return rows()
    finally:
        engine.dispose()


ANSWER_PARTS = ("/more_details", "/show_sources")
INSURED_IN_FRANCE = '/inform{"insured_country": "FR", "country": "FR"}'


def answer_of(replies) -> dict:
    """The answer bubble of a turn (it carries the buttons "More details" / "Sources")."""
    found = [r for r in replies if "/show_sources" in [b["payload"] for b in r.get("buttons", [])]]
    assert len(found) == 1, replies
    return found[0]


def widget_data(replies) -> dict:
    """What the widget gets with the answer to open the details and sources in place."""
    found = [r["custom"]["pcn_answer"] for r in replies if (r.get("custom") or {}).get("pcn_answer")]
    assert len(found) == 1, replies
    return found[0]


def asks_where_insured(replies) -> bool:
    return INSURED_IN_FRANCE in payloads(replies)


def ask(desk, sender: str, text: str, language: str, insured: str = INSURED_IN_FRANCE):
    """A question, and the reply to "Where are you insured?" when the assistant asks it."""
    replies = desk.send(sender, text, language)
    if asks_where_insured(replies):
        replies = desk.send(sender, insured, language)
    return replies


def questions_in(replies) -> list:
    """What a turn asks: bubbles with choices (other than the answer's own) or ending with a question mark."""
    asked = []
    for reply in replies:
        text = (reply.get("text") or "").strip()
        choices = [b for b in reply.get("buttons", []) if b["payload"] not in ANSWER_PARTS]
        if choices or (text.endswith("?") and not reply.get("buttons")):
            asked.append(text)
    return asked


def test_first_message_question_is_answered_in_french_with_sources_on_demand(desk):
    sender = new_sender()
    replies = ask(desk, sender, "Faut-il une autorisation préalable pour une IRM en Allemagne ?", "fr")
    answer = answer_of(replies)
    assert replies[0] is answer, "the answer comes first"
    assert "Bonjour" not in answer["text"]  # no greeting blocks the answer
    assert words(answer["text"]) <= MAX_FIRST_BUBBLE_WORDS and "Base légale" not in answer["text"]
    data = widget_data(replies)
    assert "Base légale" in data["sources"] and "R.160-2" in data["sources"]
    sources = desk.send(sender, "/show_sources", "fr")
    assert texts(sources) == data["sources"]
    details = desk.send(sender, "/more_details", "fr")
    assert texts(details).replace("\n\n", "\n") == data["details"].replace("\n\n", "\n")


def test_english_question_answered_in_english_even_on_a_french_page(desk):
    sender = new_sender()
    replies = ask(desk, sender, "Do I need prior authorisation for an MRI in Germany?", "fr")
    assert widget_data(replies)["language"] == "en"
    assert [b["title"] for b in answer_of(replies)["buttons"]][0] == "More details"
    assert texts(desk.send(sender, "/show_sources", "fr")).startswith("Legal basis")


def test_typos_and_no_accents(desk):
    replies = ask(desk, new_sender(), "formulaire s2 c quoi et comment l obtenir", "fr")
    assert "S2" in answer_of(replies)["text"] and widget_data(replies)["language"] == "fr"


def test_language_switch_mid_conversation(desk):
    sender = new_sender()
    assert "Bonjour" in texts(desk.send(sender, "Bonjour", "fr"))
    assert "English" in texts(desk.send(sender, "can we speak english please", "fr"))
    assert widget_data(ask(desk, sender, "How do I claim back what I paid in Germany?", "fr"))["language"] == "en"
    assert widget_data(ask(desk, sender, "et pour les frais de transport vers l'hôpital ?", "en"))["language"] == "fr"


def test_emergency_gets_15_and_112_first(desk):
    replies = desk.send(new_sender(), "urgence mon mari fait un malaise il respire mal", "fr")
    assert "15" in replies[0]["text"] and "112" in replies[0]["text"]


def test_out_of_scope_points_to_cleiss(desk):
    replies = desk.send(new_sender(), "quel temps fera-t-il à Lyon ce week-end ?", "fr")
    assert "cleiss.fr" in texts(replies)


def test_h_question_offers_an_agent_in_one_sentence_with_yes_no(desk):
    replies = ask(desk, new_sender(), "Où en est ma demande d'autorisation envoyée à ma CPAM il y a un mois ?", "fr")
    assert "/request_human" in payloads(replies)
    offer = [r for r in replies if "/request_human" in [b["payload"] for b in r.get("buttons", [])]]
    assert len(offer) == 1 and offer[0]["text"].endswith("?")
    assert [b["payload"] for b in offer[0]["buttons"]] == ["/request_human", "/deny"]
    assert questions_in(replies) == [offer[0]["text"]]


def test_identifiers_are_never_echoed_and_a_reminder_is_given(desk):
    nir = "1 85 05 78 006 084 36"
    replies = desk.send(new_sender(), f"mon numéro de sécu est {nir}, comment me faire rembourser mes soins en Espagne ?", "fr")
    body = texts(replies)
    assert "006 084" not in body and "0060843" not in body.replace(" ", "")
    assert "numéro de sécurité sociale" in body  # the privacy reminder


def test_country_and_profile_stated_are_logged_for_the_bilan(desk):
    sender = new_sender()
    desk.send(sender, "je suis belge et assuré en Belgique, puis-je me faire rembourser une opération faite en France ?", "fr")
    rows = wait_rows(
        desk,
        "SELECT origin_country, origin_group, profile FROM enquiries WHERE conversation_id = :c",
        {"c": sender},
        lambda rows: rows and rows[0]["origin_country"],
    )
    assert rows[0]["origin_country"] == "BE" and rows[0]["origin_group"] == "UK_BE_DE_ES_PL"
    desk.send(sender, '/inform{"profile": "HCP"}', "fr")
    rows = wait_rows(desk, "SELECT profile FROM enquiries WHERE conversation_id = :c", {"c": sender},
                     lambda rows: rows and rows[0]["profile"] == "HCP")
    assert rows[0]["profile"] == "HCP"


def test_questions_are_logged_with_code_and_category(desk):
    sender = new_sender()
    desk.send(sender, "Quelle différence entre la CEAM, le formulaire S2 et la directive ?", "fr")
    rows = wait_rows(
        desk,
        "SELECT q.question_code, q.category, q.outcome FROM enquiry_questions q "
        "JOIN enquiries e ON e.id = q.enquiry_id WHERE e.conversation_id = :c",
        {"c": sender},
    )
    assert rows and rows[0]["question_code"] == "A5" and rows[0]["category"] == "a"
    assert rows[0]["outcome"] == "answered"


def escalate(desk, sender: str, language: str = "fr"):
    ask(desk, sender, "Ma demande de remboursement a été rejetée par la CPAM, comment contester ?", language)
    confirm = desk.send(sender, "/request_human", language)
    assert "/affirm" in payloads(confirm)
    assert "rejetée" in texts(confirm)  # the question is shown back in the user's words
    consent = desk.send(sender, "/affirm", language)
    assert "RGPD" in texts(consent)   # the notice comes before the address is asked
    asked = desk.send(sender, "/affirm", language)
    assert "adresse e-mail" in texts(asked)
    invalid = desk.send(sender, "pas une adresse", language)
    assert "valide" in texts(invalid)
    return desk.send(sender, "marie.curie@example.org", language)


def test_escalation_creates_one_ticket_with_redacted_transcript(desk):
    sender = new_sender()
    desk.send(sender, "Bonjour, je m'appelle Jean Dupont, tel 06 12 34 56 78", "fr")
    done = escalate(desk, sender)
    match = re.search(r"PCN-\d{4}-\d{6}", texts(done))
    assert match, texts(done)
    desk.send(sender, "/affirm", "fr")  # a double click after completion
    rows = wait_rows(desk, "SELECT * FROM tickets WHERE conversation_id = :c", {"c": sender})
    assert len(rows) == 1
    ticket = rows[0]
    assert ticket["reference"] == match.group(0)
    assert ticket["contact_email"] == "marie.curie@example.org"
    transcript = ticket["transcript"]
    transcript = json.loads(transcript) if isinstance(transcript, str) else transcript
    flat = json.dumps(transcript, ensure_ascii=False)
    assert "06 12 34 56 78" not in flat and "marie.curie@example.org" not in flat
    assert "Dupont" not in flat
    assert ticket["question_code"] == "C8" and ticket["category"] == "c"
    enquiry = wait_rows(desk, "SELECT outcome FROM enquiries WHERE conversation_id = :c", {"c": sender},
                        lambda rows: rows and rows[0]["outcome"] == "escalated")
    assert enquiry[0]["outcome"] == "escalated"


def test_escalation_can_be_cancelled_and_creates_nothing(desk):
    sender = new_sender()
    desk.send(sender, "je veux parler à un conseiller", "fr")
    replies = desk.send(sender, "/cancel", "fr")
    assert "annulé" in texts(replies)
    # a ticket is written before the reply that confirms it: none can come after this reply
    assert not wait_rows(desk, "SELECT id FROM tickets WHERE conversation_id = :c", {"c": sender},
                         predicate=lambda rows: True, timeout=0)


def test_escalation_in_english(desk):
    sender = new_sender()
    ask(desk, sender, "I'm a French pensioner living in Spain, which country authorises my treatment?", "en")
    desk.send(sender, "/request_human", "en")
    desk.send(sender, "/affirm", "en")
    desk.send(sender, "/affirm", "en")
    done = desk.send(sender, "john@example.org", "en")
    assert re.search(r"PCN-\d{4}-\d{6}", texts(done)) and "reference" in texts(done)


def test_feedback_is_recorded(desk):
    sender = new_sender()
    ask(desk, sender, "Les frais de transport vers l'hôpital en Allemagne sont-ils pris en charge ?", "fr")
    desk.send(sender, "/feedback_positive", "fr")
    assert recorded_feedback(desk, sender) in (True, 1)


def recorded_feedback(desk, sender):
    rows = wait_rows(desk, "SELECT feedback_helpful FROM enquiries WHERE conversation_id = :c", {"c": sender},
                     lambda rows: rows and rows[0]["feedback_helpful"] is not None)
    return rows[0]["feedback_helpful"]


def test_a_typed_yes_to_was_this_helpful_is_recorded(desk):
    sender = new_sender()
    ask(desk, sender, "Les frais de transport pour des soins en Allemagne sont-ils pris en charge ?", "fr")
    # Feedback is asked after each answer until it is given.
    replies = ask(desk, sender, "et les médicaments achetés en Espagne, ils sont remboursés ?", "fr")
    assert questions_in(replies) == ["Cette réponse vous a-t-elle été utile ?"]
    thanks = desk.send(sender, "oui", "fr")
    assert "Merci pour votre retour" in thanks[0]["text"]
    # then, once, the anonymous survey (one question), and no fallback
    assert questions_in(thanks) == [thanks[1]["text"]] and len(thanks) == 2
    assert "/inform{\"profile\": \"IND\"}" in payloads(thanks)
    assert recorded_feedback(desk, sender) in (True, 1)
    # The conversation goes on normally; the country of insurance is not asked again.
    replies = desk.send(sender, "formulaire s2", "fr")
    assert not asks_where_insured(replies) and "S2" in answer_of(replies)["text"]


def test_gibberish_is_never_a_dead_end(desk):
    replies = desk.send(new_sender(), "blorf zzk quantum banane", "fr")
    body = texts(replies)
    assert "compris" in body or "cleiss.fr" in body  # a clarification, or the out-of-scope pointer


def test_two_stage_fallback_clarifies_then_offers_an_agent_in_english(desk):
    sender = new_sender()
    desk.send(sender, "Hello", "en")
    first = desk.send(sender, "/nlu_fallback", "en")
    assert "not sure I understood" in texts(first)
    second = desk.send(sender, "/nlu_fallback", "en")
    assert "NCP adviser" in texts(second) and "/request_human" in payloads(second)


def test_only_sessions_with_a_real_question_count_as_bilan_requests(desk):
    """Issue 11/12: garbage, greetings-only and test sessions are not requests (core/requests.py)."""
    junk, hello, real = ("web-" + uuid.uuid4().hex[:12] for _ in range(3))
    probe = new_sender()  # "test-…": test traffic, whatever it asks
    desk.send(junk, "<script>alert(1)</script>", "fr")
    desk.send(hello, "bonjour", "fr")
    desk.send(probe, "Comment me faire rembourser des soins payés en Espagne ?", "fr")
    desk.send(real, "Comment me faire rembourser des soins payés en Espagne ?", "fr")
    # one writer applies the log in order: once the last session shows up, the others are written
    rows = wait_rows(desk, "SELECT conversation_id, bilan_status FROM enquiries WHERE conversation_id IN "
                           "(:a, :b, :c, :d)", {"a": junk, "b": hello, "c": probe, "d": real},
                     lambda rows: any(r["conversation_id"] == real and r["bilan_status"] == "request" for r in rows))
    status = {r["conversation_id"]: r["bilan_status"] for r in rows}
    assert status[real] == "request" and status[probe] == "test"
    assert status[junk] in ("garbage", "empty") and status[hello] == "empty"
