"""core/privacy.py: identifiers in realistic FR/EN chat messages."""
import pytest

from core.privacy import contains_identifier, find_identifiers, redact
from core.privacy import _iban_ok, _nir_ok


# ------------------------------------------------------------------ checksums
def test_nir_key():
    assert _nir_ok("185057800608491")
    assert _nir_ok("1 85 05 78 006 084 91")
    assert not _nir_ok("1 85 05 78 006 084 36")
    assert _nir_ok("2 84 12 2A 004 012 84")          # Corsica: 2A counts as 19
    assert _nir_ok("184022B12345661")                 # 2B counts as 18


def test_iban_mod97():
    assert _iban_ok("FR76 3000 6000 0112 3456 7890 189")
    assert not _iban_ok("FR76 3000 6000 0112 3456 7890 188")
    assert _iban_ok("DE89370400440532013000")


# ------------------------------------------------------------------ redaction
REDACTED = [
    # NIR
    ("Mon numéro de sécu est 1 85 05 78 006 084 91", "Mon numéro de sécu est [NIR]"),
    ("mon nir 185057800608491 merci", "mon nir [NIR] merci"),
    ("NIR : 2.84.12.2A.004.012.84", "NIR : [NIR]"),
    ("numéro 1 85 05 78 006 084 36 (clé fausse)", "numéro [NUMBER] (clé fausse)"),
    ("my French number is 1850578006084", "my French number is [NIR]"),   # key left out
    # PHONE
    ("Appelez-moi au 06 12 34 56 78 svp", "Appelez-moi au [PHONE] svp"),
    ("rappelez moi 0612345678", "rappelez moi [PHONE]"),
    ("tel: +33 6 12 34 56 78", "tel: [PHONE]"),
    ("call me on +44 20 7946 0958 tomorrow", "call me on [PHONE] tomorrow"),
    ("mon portable belge 0032 470 12 34 56", "mon portable belge [PHONE]"),
    # IBAN
    ("Mon IBAN : FR76 3000 6000 0112 3456 7890 189", "Mon IBAN : [IBAN]"),
    ("IBAN DE89370400440532013000 for the refund", "IBAN [IBAN] for the refund"),
    # EMAIL
    ("écrivez à marie.dupont@gmail.com svp", "écrivez à [EMAIL] svp"),
    ("my e-mail: j_smith+nhs@example.co.uk", "my e-mail: [EMAIL]"),
    # NUMBER (dossier)
    ("Mon dossier CPAM n° 2023-456789 est bloqué", "Mon dossier CPAM n° [NUMBER] est bloqué"),
    ("reference 88812345 on the letter", "reference [NUMBER] on the letter"),
    # PERSON
    ("Bonjour, je m'appelle Marie Dupont et j'habite à Lyon.",
     "Bonjour, je m'appelle [PERSON] et j'habite à Lyon."),
    ("je m'appelle marie dupont", "je m'appelle [PERSON]"),
    ("Hello, my name is John Smith and I live in London",
     "Hello, my name is [PERSON] and I live in London"),
    ("I am Peter Jones, from the UK", "I am [PERSON], from the UK"),
    ("J'ai vu Mme Lefebvre à la CPAM", "J'ai vu Mme [PERSON] à la CPAM"),
    ("Le Dr Martin m'a prescrit une IRM", "Le Dr [PERSON] m'a prescrit une IRM"),
    ("J'ai parlé avec Jean-Pierre Lefebvre à la CPAM de Lille",
     "J'ai parlé avec [PERSON] à la CPAM de Lille"),
    ("Mon nom est Nguyen, je vis en Espagne", "Mon nom est [PERSON], je vis en Espagne"),
    # ADDRESS
    ("J'habite 12 rue de la Paix, 75002 Paris", "J'habite [ADDRESS]"),
    ("adresse : 5 avenue Jean Jaurès à Lyon", "adresse : [ADDRESS] à Lyon"),
    ("I live at 10 Downing Street", "I live at [ADDRESS]"),
    # BIRTHDATE
    ("Je suis née le 12/03/1980", "Je suis née le [DATE]"),
    ("né le 3 mars 1975 à Alger", "né le [DATE] à Alger"),
    ("born on 3 March 1975", "born on [DATE]"),
    ("date of birth: 1980-03-12", "date of birth: [DATE]"),
    # several at once
    ("Je suis Marie Curie, NIR 185057800608491, tél 06 12 34 56 78, marie@curie.fr",
     "Je suis [PERSON], NIR [NIR], tél [PHONE], [EMAIL]"),
]


@pytest.mark.parametrize("text,expected", REDACTED)
def test_redact(text, expected):
    assert redact(text) == expected


UNCHANGED = [
    "Je vais en Allemagne pour une IRM",
    "What is the S2 form?",
    "Can I use my EHIC in Spain?",
    "Bonjour, j'ai une question sur la CEAM",
    "Est-ce que le Cleiss peut m'aider ?",
    "Hello, I need help with my S2 form",
    "Je suis britannique et je vis en France depuis 2015",
    "I'm French and live in Germany",
    "I am British, insured in the UK",
    "L'opération coûte 120 000 euros ?",
    "J'ai été opéré le 12.03.2024 à l'Hôpital Necker",
    "Ma CPAM refuse le formulaire S3125",
    "Je voudrais me faire soigner au CHU de Liège en Belgique",
    "Do I need prior authorisation from my CPAM for surgery in Spain?",
    "Quelle est la différence entre la directive 2011/24 et le règlement 883/2004 ?",
    "Royaume-Uni, Suisse ou Norvège : la directive s'applique-t-elle ?",
    "J'ai 2 enfants et 1 rendez-vous le 15 mars",
    "Bonjour Madame",
]


@pytest.mark.parametrize("text", UNCHANGED)
def test_unchanged(text):
    assert redact(text) == text
    assert not contains_identifier(text)


def test_findings_have_kinds_and_spans():
    text = "IBAN FR76 3000 6000 0112 3456 7890 189, mail a@b.fr"
    found = find_identifiers(text)
    assert [f.kind for f in found] == ["IBAN", "EMAIL"]
    assert text[found[0].start:found[0].end] == "FR76 3000 6000 0112 3456 7890 189"
    assert text[found[1].start:found[1].end] == "a@b.fr"


def test_contains_identifier_uses_patterns_only():
    assert contains_identifier("mon numéro 06 12 34 56 78")
    assert contains_identifier("je m'appelle Paul")
    # A known first name is enough for the patterns ("Jean-Pierre Lefebvre")…
    assert contains_identifier("J'ai parlé avec Jean-Pierre Lefebvre hier")
    # …a bare name with no cue and an unlisted first name needs spaCy.
    text = "J'ai parlé avec Ksenia Wołowska hier"
    assert not contains_identifier(text)
    assert redact(text) == "J'ai parlé avec [PERSON] hier"
    assert redact(text, use_ner=False) == text


def test_countries_are_never_redacted():
    for text in ("Je m'appelle Marie et je suis Belge",
                 "I am from Ireland", "Mr France est mon médecin"):
        out = redact(text)
        for word in ("Belge", "Ireland", "France"):
            if word in text:
                assert word in out, out


def test_iban_followed_by_capitals():
    assert redact("IBAN FR7630006000011234567890189 OK merci") == "IBAN [IBAN] OK merci"


@pytest.mark.parametrize("text", [
    "Is the Hôpital Européen Georges Pompidou private?",
    "Dear Sir, can I use my EHIC in Spain?",
    "Good morning, I had an accident in Spain and went to Hospital Quirón",
])
def test_hospital_names_and_salutations_kept(text):
    assert redact(text) == text


def test_english_ner_output_is_filtered():
    assert redact("Dear Sir, My wife Anna Kowalski needs surgery in Poland") == \
        "Dear Sir, My wife [PERSON] needs surgery in Poland"


def test_name_after_healthcare_word_is_still_a_name():
    assert redact("J'ai appelé la CPAM et Jean-Pierre Lefebvre m'a répondu") == \
        "J'ai appelé la CPAM et [PERSON] m'a répondu"


# ------------------------------------------------------------------ Rasa events at rest
def test_redact_event_user_message_and_its_parse_data():
    from core.privacy import redact_event

    text = "Je m'appelle Jeanne Martin, NIR 185057800608491"
    event = {"event": "user", "text": text, "timestamp": 1.0,
             "parse_data": {"text": text, "intent": {"name": "inform"},
                            "entities": [{"entity": "name", "value": "Jeanne Martin"}]},
             "metadata": {"language": "fr", "channel": "web", "tracking": "cookie-123456789"}}
    stored = redact_event(event)
    assert stored["text"] == stored["parse_data"]["text"] == "Je m'appelle [PERSON], NIR [NIR]"
    assert stored["parse_data"]["entities"][0]["value"] == "[PERSON]"
    assert stored["metadata"] == {"language": "fr", "channel": "web"}
    assert event["text"] == text   # the live event is not changed


def test_redact_event_payloads_slots_and_bot_texts():
    from core.privacy import redact_event

    assert redact_event({"event": "user", "text": '/inform{"country": "BE"}'})["text"] == '/inform{"country": "BE"}'
    forged = redact_event({"event": "user", "text": '/request_human{"note": "NIR 185057800608491"}'})
    assert "185057800608491" not in forged["text"]
    assert redact_event({"event": "slot", "name": "contact_email", "value": "a.b@example.org"})["value"] == "[EMAIL]"
    assert redact_event({"event": "slot", "name": "enquiry_id", "value": "370c8fd672b84c62adc8fae9dbda44b2"})[
        "value"] == "370c8fd672b84c62adc8fae9dbda44b2"
    assert redact_event({"event": "slot", "name": "requested_slot", "value": "contact_email"})["value"] == "contact_email"
    bot = redact_event({"event": "bot", "text": "Votre question : « mon tél 06 12 34 56 78 »",
                        "data": {"buttons": [{"title": "Oui", "payload": "/affirm"}]}})
    assert bot["text"] == "Votre question : « mon tél [PHONE] »" and bot["data"]["buttons"][0]["payload"] == "/affirm"
