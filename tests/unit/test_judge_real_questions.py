"""The judge of real people's questions (bench/judge_real_questions.py): its verdicts, not the desk.

Replies are built as the REST channel returns them ({"text", "buttons", "custom"}),
so these tests pin what the judge counts as an answer, an offer, a clarifying
question, a key fact and a next step. The sealed holdout set is never opened here.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from bench import judge_real_questions as jq

ANSWER_EN = [
    {"text": "With your GHIC you pay the doctor, then claim the refund: keep the feuille de soins."},
    {"text": "Send it with a copy of your GHIC and your bank details to the CPAM of the place of care."},
    {"text": "Legal basis: Regulation (EC) 883/2004, Art. 19"},
    {"text": "Was this answer helpful?", "buttons": [{"title": "Yes", "payload": "/feedback_positive"},
                                                 {"title": "No", "payload": "/feedback_negative"}]},
]

ITEM = {
    "id": "rq-900", "kind": "real", "language": "en", "topic": "incoming_unplanned",
    "text": "I have a Ghic card: how do French GPs work?",
    "expected": {
        "handling": "answer", "codes": ["C11"], "route": "regulation",
        "key_facts": [
            {"any": [r"pay (the )?doctor", r"\bpayez\b"], "why": "pay the GP"},
            {"any": [r"feuilles? de soins"], "why": "keep the feuille de soins"},
        ],
        "next_step": {"any": [r"\bcpam\b"], "why": "claim from the local CPAM"},
        "forbidden": [{"pattern": r"s3125|12267", "why": "form of people insured in France"}],
        "clarify": {"insured_country": "GB", "care_timing": "unplanned", "treatment_country": "FR"},
    },
}


def item(**expected):
    it = copy.deepcopy(ITEM)
    it["expected"].update(expected)
    return it


def reply(*messages):
    return jq.Reply([dict(m) for m in messages])


def verdict_of(messages, it=None):
    return jq.judge(it or ITEM, [reply(*messages)])


def test_a_reply_with_every_fact_the_next_step_and_the_right_language_is_correct():
    v = verdict_of(ANSWER_EN)
    assert (v.verdict, v.handling, v.facts_hit, v.next_step_ok, v.reply_language) == \
        ("correct", "answer", 2, True, "en")


def test_a_reply_missing_one_key_fact_is_not_correct():
    messages = [{"text": "With your GHIC you pay the doctor, then claim the refund from the CPAM of the place "
                         "of care with your bank details and a copy of the card."},
                {"text": "Legal basis: Regulation (EC) 883/2004, Art. 19"}]
    v = verdict_of(messages)
    assert v.verdict == "partial"
    assert v.missing_facts == ["keep the feuille de soins"]


def test_facts_count_in_custom_details_but_the_next_step_must_be_visible():
    messages = [{"text": "With your GHIC you pay the doctor and keep the feuille de soins.",
                 "custom": {"details": "Then send everything to the CPAM of the place of care.",
                            "sources": ["R6"]}}]
    v = verdict_of(messages)
    assert v.facts_hit == 2          # both facts are in the visible text or the details
    assert not v.next_step_ok        # "CPAM" is only behind "More details"
    assert v.verdict == "partial"
    visible = [{"text": "With your GHIC you pay the doctor and keep the feuille de soins: claim from the CPAM.",
                "custom": {"details": "Any CPAM of the area.", "sources": ["R6"]}}]
    assert verdict_of(visible).verdict == "correct"


def test_a_forbidden_statement_makes_the_verdict_wrong_even_with_every_fact():
    messages = ANSWER_EN + [{"text": "Then fill in form S3125 on your ameli account."}]
    v = verdict_of(messages)
    assert v.forbidden_hit == ["form of people insured in France"]
    assert v.verdict == "wrong"


def test_a_french_reply_to_an_english_asker_is_not_correct():
    messages = [{"text": "Avec votre carte, vous payez le médecin puis vous gardez la feuille de soins. "
                         "Envoyez-la à la CPAM du lieu de soins avec votre RIB."},
                {"text": "Base légale : règlement (CE) 883/2004, art. 19"}]
    v = verdict_of(messages, item(key_facts=[{"any": [r"\bpayez\b"], "why": "pay"}]))
    assert (v.reply_language, v.language_ok, v.verdict) == ("fr", False, "partial")


def test_matching_ignores_case_accents_and_typographic_apostrophes():
    it = item(key_facts=[{"any": [r"carte europeenne d'assurance maladie"], "why": "CEAM"}],
              next_step={"any": [r"compte ameli"], "why": "order it"})
    messages = [{"text": "Commandez la Carte Européenne d’Assurance Maladie depuis votre COMPTE AMELI, "
                         "au moins quinze jours avant votre départ en vacances en Espagne."},
                {"text": "Base légale : règlement (CE) 883/2004"}]
    v = jq.judge({**it, "language": "fr"}, [reply(*messages)])
    assert (v.facts_hit, v.next_step_ok, v.verdict) == (1, True, "correct")


def test_an_adviser_mentioned_inside_an_answer_is_not_an_offer():
    answered = reply({"text": "An adviser of your CPAM can tell you which documents to send; keep the "
                              "feuille de soins and pay the doctor as French patients do."},
                     {"text": "Legal basis: Regulation (EC) 883/2004"})
    assert jq.observed_handling(answered) == "answer"
    offered = reply(*answered.messages,
                    {"text": "A PCN agent can look at your situation. Would you like to be contacted?",
                     "buttons": [{"title": "Yes", "payload": "/request_human"}, {"title": "No", "payload": "/deny"}]})
    assert jq.observed_handling(offered) == "answer_then_offer"


def test_expected_answer_then_offer_is_missed_without_the_offer():
    v = verdict_of(ANSWER_EN, item(handling="answer_then_offer"))
    assert not v.handling_ok and v.verdict == "partial"


def test_the_fallback_is_wrong_whatever_else_the_reply_holds():
    messages = [{"text": "I'm not sure I understood. Is your question about one of these topics?",
                 "buttons": [{"title": "Reimbursement amount", "payload": "/q_c2_reimbursement_amount"}]}]
    v = verdict_of(messages)
    assert (v.handling, v.verdict) == ("fallback", "wrong")
    assert jq.clarify_kind(reply(*messages)) is None    # topic buttons are not a clarifying question


def test_a_message_refused_as_too_long_is_wrong():
    messages = [{"text": "Your message is too long: 1000 characters at most. Please shorten it (no need to "
                         "describe your medical situation) and send it again. / Votre message est trop long."}]
    assert verdict_of(messages).handling == "rejected"
    assert verdict_of(messages).verdict == "wrong"


def test_the_emergency_handling_needs_15_or_112_first():
    first = reply({"text": "In a medical emergency, call 112 now (the European emergency number)."},
                  {"text": "Once the situation is under control, I can inform you about cover."})
    assert jq.observed_handling(first) == "emergency"
    advice = reply({"text": "I cannot give medical advice: please ask your doctor. If it is urgent, call 112. "
                            "I can, however, inform you about your rights to care in another EU country."})
    assert jq.observed_handling(advice) != "emergency"


def test_the_other_language_notice_is_a_handoff_not_a_clarifying_question():
    notice = reply({"text": "Je réponds en français ou en anglais. / I can answer in French or English. "
                            "Un agent du PCN peut aussi vous répondre par e-mail.",
                    "buttons": [{"title": "Français", "payload": '/switch_language{"language": "fr"}'},
                                {"title": "Agent / agent", "payload": "/request_human"}]},
                   {"text": "Understood. Do you have another question?"})
    assert jq.observed_handling(notice) == "other_language_handoff"
    assert jq.clarify_kind(notice) is None
    assert jq.clarify_answer(notice, ITEM["expected"]["clarify"], "pl") is None


COUNTRY_QUESTION = {"text": "Where are you insured (which country pays your health cover)?",
                    "buttons": [{"title": "France", "payload": '/inform{"country": "FR"}'},
                                {"title": "United Kingdom", "payload": '/inform{"country": "GB"}'},
                                {"title": "Belgium", "payload": '/inform{"country": "BE"}'}]}
TIMING_QUESTION = {"text": "Is the treatment planned, or needed during a stay?",
                   "buttons": [{"title": "Planned treatment", "payload": '/inform{"care_timing": "planned"}'},
                               {"title": "Needed during a stay", "payload": '/inform{"care_timing": "unplanned"}'}]}


def test_a_clarifying_question_is_answered_with_the_asker_s_button():
    assert jq.clarify_kind(reply(COUNTRY_QUESTION)) == "insured_country"
    answer = jq.clarify_answer(reply(COUNTRY_QUESTION), {"insured_country": "GB", "treatment_country": "FR"}, "en")
    assert answer == {"message": '/inform{"country": "GB"}', "via": "button:insured_country"}
    timing = jq.clarify_answer(reply(TIMING_QUESTION), {"care_timing": "unplanned"}, "en")
    assert timing["message"] == '/inform{"care_timing": "unplanned"}'


def test_without_a_matching_button_the_fact_is_typed_and_an_unknown_fact_is_admitted():
    no_gb = {**COUNTRY_QUESTION, "buttons": COUNTRY_QUESTION["buttons"][:1]}
    typed = jq.clarify_answer(reply(no_gb), {"insured_country": "GB"}, "fr")
    assert typed["via"] == "text:insured_country" and typed["message"] == "Royaume-Uni"
    unknown = jq.clarify_answer(reply(COUNTRY_QUESTION), {"treatment_country": "FR"}, "en")
    assert unknown == {"message": "I don't know.", "via": "dont_know"}


def test_the_conversation_answers_one_clarifying_question_then_judges_the_answer():
    sent = []

    def fake_send(sender, message, language):
        sent.append((sender, message, language))
        return [COUNTRY_QUESTION] if len(sent) == 1 else ANSWER_EN

    turns, sender = jq.ask(item(handling="clarify_then_answer"), fake_send)
    assert [m for _, m, _ in sent] == [ITEM["text"], '/inform{"country": "GB"}']
    assert {s for s, _, _ in sent} == {sender} and {lang for _, _, lang in sent} == {"en"}
    v = jq.judge(item(handling="clarify_then_answer"), turns)
    assert (v.clarified, v.handling_ok, v.verdict) == (True, True, "correct")
    direct = jq.judge(item(handling="clarify_then_answer"), [reply(*ANSWER_EN)])
    assert not direct.handling_ok and direct.verdict == "partial"


def test_the_page_language_is_french_only_for_french_askers():
    pages = []
    jq.ask({**ITEM, "language": "pl"}, lambda s, m, lang: pages.append(lang) or [])
    jq.ask({**ITEM, "language": "fr"}, lambda s, m, lang: pages.append(lang) or [])
    assert pages == ["en", "fr"]


def test_validation_names_the_bad_item(tmp_path: Path):
    good = copy.deepcopy(ITEM) | {"source": "https://example.org/q", "situation": {"insured_in": "GB"}}
    (tmp_path / "dev.yml").write_text(yaml.safe_dump({"questions": [good]}), encoding="utf-8")
    assert len(jq.load_set("dev", tmp_path)) == 1
    bad = copy.deepcopy(good)
    bad["expected"]["key_facts"][0]["any"] = ["(unclosed"]
    (tmp_path / "dev.yml").write_text(yaml.safe_dump({"questions": [bad]}), encoding="utf-8")
    with pytest.raises(jq.SetError, match=r"rq-900.*bad regex"):
        jq.load_set("dev", tmp_path)
    variant = copy.deepcopy(good) | {"kind": "variant", "variant_of": "rq-001"}
    (tmp_path / "holdout.yml").write_text(yaml.safe_dump({"questions": [variant]}), encoding="utf-8")
    with pytest.raises(jq.SetError, match="variants go to dev only"):
        jq.load_set("holdout", tmp_path)


def test_the_dev_set_is_well_formed_and_its_variants_come_from_its_own_real_questions():
    items = jq.load_set("dev")
    real = {i["id"] for i in items if i["kind"] == "real"}
    variants = [i for i in items if i["kind"] == "variant"]
    assert len(real) >= 15 and variants
    assert all(v["variant_of"] in real for v in variants)
    assert all(i["source"].startswith("http") for i in items)
    assert {i["language"] for i in items} >= {"fr", "en", "de", "es", "it", "pl", "nl", "pt"}


def other_language_item():
    it = copy.deepcopy(ITEM)
    it.update(language="de", text="Ich bin in Deutschland versichert und brauche in Frankreich einen Arzt.")
    it["expected"].update(handling="other_language_handoff", key_facts=[], next_step=None, forbidden=[])
    return it


def test_another_language_is_answered_in_that_language_first():
    """Issue 10: a German asker gets the notice in German; a French-only notice is not right."""
    german = {"text": "Ich antworte nur auf Französisch oder Englisch. Eine Beraterin oder ein Berater "
                      "des PCN kann Ihnen helfen: möchten Sie kontaktiert werden?",
              "buttons": [{"title": "Ja", "payload": "/request_human"}]}
    french = {"text": "Je réponds en français ou en anglais. Un conseiller du PCN peut vous aider : "
                      "souhaitez-vous être recontacté ?", "buttons": [{"title": "Oui", "payload": "/request_human"}]}
    first_german = jq.judge(other_language_item(), [reply(german, french)])
    only_french = jq.judge(other_language_item(), [reply(french)])
    assert (first_german.reply_language, first_german.language_ok) == ("de", True)
    assert (only_french.reply_language, only_french.language_ok) == ("fr", False)


def test_each_asker_comes_from_its_own_address():
    """The desk's per-client rate limit applies per person, as on the web."""
    from tests.servers import client_address

    addresses = {client_address(f"realq-rq-{n:03d}-x") for n in range(100)}
    assert len(addresses) > 95 and all(a.startswith("10.") for a in addresses)


def test_a_time_limit_to_contest_is_not_a_promised_delay():
    said = "Votre caisse décide. Vous pouvez contester devant la CRA dans les 2 mois. Votre dossier sera traité dans les 30 jours."
    kept = jq.without_time_limits_to_act(said)
    assert "dans les 2 mois" not in kept and "dans les 30 jours" in kept
