"""bot/channels.py: the REST channel's limits at the HTTP edge.

Most tests call the channel's handler with a minimal request object; one test
runs the blueprint in a real Sanic server (routes, CORS-free plain HTTP).
"""
from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa.core.channels.channel import UserMessage

from bot.channels import (
    LimitedRestInput,
    SlidingWindowLimiter,
    bilingual,
    normalise_text,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


class FakeRequest:
    def __init__(self, body: Any, args: Optional[Dict[str, str]] = None, remote: str = "203.0.113.7",
                 headers: Optional[Dict[str, str]] = None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
        elif isinstance(body, str):
            body = body.encode("utf-8")
        self.body = body
        self.args = args or {}
        self.remote_addr = remote
        self.ip = remote
        self.headers = {"content-type": "application/json", **(headers or {})}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeRasa:
    """Stands for Rasa's on_new_message: records messages, answers or not."""

    def __init__(self, reply: Optional[str] = "ok", fail: bool = False) -> None:
        self.received: List[UserMessage] = []
        self.reply, self.fail = reply, fail

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.fail:
            raise RuntimeError("boom")
        if self.reply is not None:
            await message.output_channel.send_text_message(message.sender_id, self.reply)


def call(channel: LimitedRestInput, body: Any, rasa: Optional[FakeRasa] = None, **kwargs: Any):
    rasa = rasa or FakeRasa()
    result = asyncio.run(channel.handle(FakeRequest(body, **kwargs), rasa))
    return result.status, json.loads(result.body), result.headers, rasa


def message(text: Any, sender: Any = "user-1", language: str = "fr") -> Dict[str, Any]:
    return {"sender": sender, "message": text, "metadata": {"language": language, "channel": "web"}}


def assert_bot_message(payload: Any) -> str:
    assert isinstance(payload, list) and len(payload) == 1
    assert set(payload[0]) == {"recipient_id", "text"}
    return payload[0]["text"]


# -- configuration -----------------------------------------------------------
def test_name_and_url_are_those_of_rasa_rest_channel():
    channel = LimitedRestInput()
    assert channel.name() == "rest"
    assert channel.url_prefix() == "rest"
    routes = {(route.uri, method) for route in channel.blueprint(FakeRasa())._future_routes
              for method in route.methods}
    assert routes == {("/", "GET"), ("/limits", "GET"), ("/webhook", "POST")}


def test_from_credentials_reads_credentials_yml():
    credentials = yaml.safe_load((REPO_ROOT / "credentials.yml").read_text())
    section = credentials["bot.channels.LimitedRestInput"]
    channel = LimitedRestInput.from_credentials(section)
    assert channel.max_message_chars == int(section["max_message_chars"])
    assert channel.max_messages_per_minute == int(section["max_messages_per_minute"])
    assert channel.limits() == {
        "max_message_chars": int(section["max_message_chars"]),
        "max_messages_per_minute": int(section["max_messages_per_minute"]),
        "max_messages_per_minute_per_client": int(section["max_messages_per_minute_per_client"]),
    }
    assert channel.max_message_chars == 5000  # issue 10: real messages are long
    assert channel.reply_timeout_seconds == float(section["reply_timeout_seconds"]) <= 10


def test_from_credentials_accepts_strings_and_defaults():
    channel = LimitedRestInput.from_credentials({"max_message_chars": "50", "max_messages_per_minute": "3"})
    assert (channel.max_message_chars, channel.max_messages_per_minute) == (50, 3)
    assert LimitedRestInput.from_credentials(None).limits() == {
        "max_message_chars": 5000, "max_messages_per_minute": 20, "max_messages_per_minute_per_client": 60,
    }
    with pytest.raises(ValueError):
        LimitedRestInput(max_message_chars=0)


# -- normal traffic ----------------------------------------------------------
def test_message_and_metadata_are_passed_to_rasa():
    status, payload, _, rasa = call(LimitedRestInput(), message("Bonjour"))
    assert status == 200
    assert payload == [{"recipient_id": "user-1", "text": "ok"}]
    (received,) = rasa.received
    assert received.text == "Bonjour"
    assert received.sender_id == "user-1"
    assert received.input_channel == "rest"
    assert received.metadata == {"language": "fr", "channel": "web"}


def test_html_is_passed_on_as_text():
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    status, _, _, rasa = call(LimitedRestInput(), message(hostile))
    assert status == 200
    assert rasa.received[0].text == hostile


@pytest.mark.parametrize("metadata", ["fr", ["fr"], {"language": {"nested": "fr"}}, {"language": "x" * 65},
                                      {f"k{i}": "v" for i in range(9)}, {"language": 5}])
def test_odd_metadata_is_refused(metadata):
    body = {"sender": "u", "message": "hello", "metadata": metadata}
    status, payload, _, rasa = call(LimitedRestInput(), body)
    assert status == 400 and "invalid" in assert_bot_message(payload) and not rasa.received


def test_only_known_metadata_keys_reach_rasa():
    body = {"sender": "u", "message": "hello", "metadata": {"language": "en", "channel": "web", "junk": "x" * 60}}
    status, _, _, rasa = call(LimitedRestInput(), body)
    assert status == 200 and rasa.received[0].metadata == {"language": "en", "channel": "web"}


# -- normalisation -------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  Bonjour  ", "Bonjour"),
        ("e\u0301te\u0301", "\u00e9t\u00e9"),                      # NFD -> NFC
        ("IR\u200bM en Alle\u200dmagne\ufeff", "IRM en Allemagne"),   # zero-width, BOM
        ("a\x00b\x07c\x1bd\x7fe\x9bf", "abcdef"),                    # C0 / C1 controls
        ("left\u202eright\u2066x\u2069", "leftrightx"),               # bidi overrides
        ("line1\r\nline2\u2028line3", "line1\nline2\nline3"),
        ("bad \ud800 surrogate", "bad  surrogate"),
        ("<b>gras</b> & co", "<b>gras</b> & co"),
    ],
)
def test_normalise_text(raw: str, expected: str):
    assert normalise_text(raw) == expected


def test_normalised_text_reaches_rasa():
    body = json.dumps(message("\u200b IRM\u0000 en Alle\u0301magne \u200b"))
    status, _, _, rasa = call(LimitedRestInput(), body)
    assert status == 200
    assert rasa.received[0].text == "IRM en Allémagne"


# -- 400 -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"sender": "u", "message": ',
        b"\xff\xfe\x00garbage",                                   # invalid UTF-8
        '{"sender": "u", "message": "caf\u00e9"}'.encode("latin-1"),  # Latin-1, not UTF-8
        b"[1, 2]",
        b'"just a string"',
        json.dumps({"sender": "u", "message": 42}).encode(),
        json.dumps({"sender": "u", "message": ["a"]}).encode(),
        json.dumps({"sender": {"x": 1}, "message": "hi"}).encode(),
        json.dumps({"sender": "x" * 500, "message": "hi"}).encode(),
    ],
)
def test_unreadable_requests_get_400_with_a_bilingual_bot_message(body: bytes):
    status, payload, _, rasa = call(LimitedRestInput(), body)
    assert status == 400
    text = assert_bot_message(payload)
    assert "invalide" in text or "vide" in text
    assert "invalid" in text or "empty" in text
    assert rasa.received == []


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t ", "\u200b\u200b", "\x00"])
def test_empty_messages_get_400(text: Optional[str]):
    body = {"sender": "u"} if text is None else {"sender": "u", "message": text}
    status, payload, _, rasa = call(LimitedRestInput(), body)
    assert status == 400
    text = assert_bot_message(payload)
    assert "vide" in text and "empty" in text
    assert payload[0]["recipient_id"] == "u"
    assert rasa.received == []


# -- 413 -------------------------------------------------------------------------
def test_overlong_message_gets_413_and_nothing_reaches_rasa():
    channel = LimitedRestInput(max_message_chars=20)
    status, payload, _, rasa = call(channel, message("x" * 21))
    assert status == 413
    text = assert_bot_message(payload)
    assert "trop long" in text and "too long" in text and "20" in text
    assert rasa.received == []


def test_message_at_the_limit_passes_and_length_counts_after_normalisation():
    channel = LimitedRestInput(max_message_chars=20)
    assert call(channel, message("x" * 20))[0] == 200
    assert call(channel, message("  " + "x" * 20 + "\u200b\u200b  "))[0] == 200
    assert call(channel, message("\u00e9" * 20))[0] == 200                 # 20 chars, 40 bytes
    assert call(channel, message("e\u0301" * 20))[0] == 200                # NFD: 40 -> 20 NFC
    assert call(channel, message("\U0001F600" * 20))[0] == 200             # astral chars count once


def test_huge_body_gets_413_before_parsing():
    channel = LimitedRestInput(max_message_chars=10)
    body = json.dumps({"sender": "u", "message": "hi", "metadata": {"pad": "x" * 100_000}})
    status, payload, _, rasa = call(channel, body)
    assert status == 413 and rasa.received == []
    assert_bot_message(payload)


def test_limit_message_in_english_first_on_the_english_page():
    channel = LimitedRestInput(max_message_chars=5)
    _, payload, _, _ = call(channel, message("too long message", language="en"))
    assert payload[0]["text"].startswith("Your message is too long")
    _, payload, _, _ = call(channel, message("trop long message", language="fr"))
    assert payload[0]["text"].startswith("Votre message est trop long")


# -- 429 -------------------------------------------------------------------------
def test_rate_limit_per_sender_with_retry_after():
    clock = Clock()
    channel = LimitedRestInput(max_messages_per_minute=3, clock=clock)
    rasa = FakeRasa()
    for _ in range(3):
        assert call(channel, message("hello"), rasa)[0] == 200
        clock.now += 1
    status, payload, headers, _ = call(channel, message("hello"), rasa)
    assert status == 429
    assert headers["Retry-After"] == "57"          # first message at t=1000 leaves at 1060, now 1003
    text = assert_bot_message(payload)
    assert "trop de messages" in text and "too many messages" in text and "57" in text
    assert len(rasa.received) == 3

    # another conversation is not limited
    assert call(channel, message("hello", sender="user-2"), rasa)[0] == 200
    # sliding window: the first message leaves the window after 60 s
    clock.now = 1060.0
    assert call(channel, message("hello"), rasa)[0] == 200
    assert call(channel, message("hello"), rasa)[0] == 429


def test_rejected_requests_do_not_use_the_quota():
    channel = LimitedRestInput(max_message_chars=5, max_messages_per_minute=2, clock=Clock())
    for _ in range(5):
        assert call(channel, message("far too long"))[0] == 413
        assert call(channel, message("   "))[0] == 400
    assert call(channel, message("ok"))[0] == 200
    assert call(channel, message("ok"))[0] == 200
    assert call(channel, message("ok"))[0] == 429


def test_new_senders_from_one_address_are_limited_per_client():
    channel = LimitedRestInput(max_messages_per_minute=5, max_messages_per_minute_per_client=2, clock=Clock())
    assert call(channel, message("hi", sender="a"), remote="198.51.100.1")[0] == 200
    assert call(channel, message("hi", sender="b"), remote="198.51.100.1")[0] == 200
    status, payload, headers, _ = call(channel, message("hi", sender="c"), remote="198.51.100.1")
    assert status == 429 and int(headers["Retry-After"]) >= 1 and "2" in assert_bot_message(payload)
    assert call(channel, message("hi", sender="d"), remote="198.51.100.2")[0] == 200


def test_the_proxy_header_counts_only_when_configured(monkeypatch):
    channel = LimitedRestInput(max_messages_per_minute_per_client=1, clock=Clock())
    forged = {"x-forwarded-for": "192.0.2.1"}
    monkeypatch.delenv("PCN_TRUSTED_PROXY_HEADER", raising=False)
    assert call(channel, message("hi", sender="a"), remote="127.0.0.1", headers=forged)[0] == 200
    assert call(channel, message("hi", sender="b"), remote="127.0.0.1",
                headers={"x-forwarded-for": "192.0.2.2"})[0] == 429   # same peer: the header is ignored
    monkeypatch.setenv("PCN_TRUSTED_PROXY_HEADER", "X-Forwarded-For")
    assert call(channel, message("hi", sender="c"), remote="127.0.0.1",
                headers={"x-forwarded-for": "evil, 192.0.2.3"})[0] == 200
    assert call(channel, message("hi", sender="d"), remote="127.0.0.1",
                headers={"x-forwarded-for": "other, 192.0.2.3"})[0] == 429


@pytest.mark.parametrize("body", [{"message": "hi"}, {"sender": "", "message": "hi"}, {"sender": "  ", "message": "hi"},
                                  {"sender": None, "message": "hi"}, {"sender": "default", "message": "hi"}])
def test_a_missing_blank_or_reserved_sender_is_refused(body):
    status, payload, _, rasa = call(LimitedRestInput(), body)
    text = assert_bot_message(payload)
    assert status == 400 and "invalid" in text and "invalide" in text and not rasa.received


def test_a_non_json_content_type_is_refused():
    status, _, _, rasa = call(LimitedRestInput(), message("hi"), headers={"content-type": "text/plain"})
    assert status == 400 and not rasa.received


@pytest.mark.parametrize("body", ['{"sender": "u", "message": NaN}', '{"sender": "u", "message": "hi", "x": Infinity}',
                                  '{"sender": "u", "message": "hi", "metadata": ' + "[" * 5000 + "]" * 5000 + "}"])
def test_odd_or_deeply_nested_json_is_refused(body):
    status, payload, _, rasa = call(LimitedRestInput(), body)
    assert status == 400 and "invalid" in assert_bot_message(payload) and not rasa.received


def test_a_hung_turn_gets_temporarily_unavailable_within_the_reply_timeout():
    class HungRasa(FakeRasa):
        async def __call__(self, message: UserMessage) -> None:
            await message.output_channel.send_text_message(message.sender_id, "first bubble")
            await asyncio.sleep(60)

    status, payload, _, _ = call(LimitedRestInput(reply_timeout_seconds=0.2), message("Bonjour"), HungRasa())
    assert status == 200 and payload[0]["text"] == "first bubble"
    assert "indisponible" in payload[-1]["text"]


def test_limiter_memory_is_bounded():
    limiter = SlidingWindowLimiter(limit=1, max_keys=100, clock=Clock())
    for index in range(1000):
        assert limiter.hit(f"sender-{index}") == (True, 0)
    assert len(limiter) == 100
    assert limiter.hit("sender-999")[0] is False      # recent senders are remembered
    assert limiter.hit("sender-0")[0] is True         # the oldest were forgotten


# -- no reply from Rasa ------------------------------------------------------------
def test_no_reply_to_a_typed_message_becomes_temporarily_unavailable():
    status, payload, _, _ = call(LimitedRestInput(), message("Bonjour"), FakeRasa(reply=None))
    assert status == 200
    text = assert_bot_message(payload)
    assert "indisponible" in text and "unavailable" in text and "cleiss.fr" in text
    assert payload[0]["recipient_id"] == "user-1"


def test_exception_in_rasa_becomes_temporarily_unavailable():
    status, payload, _, _ = call(LimitedRestInput(), message("/request_human"), FakeRasa(fail=True))
    assert status == 200
    assert "cleiss.fr" in assert_bot_message(payload)


@pytest.mark.parametrize("payload", ["/request_human", '/inform{"profile": "HCP"}', "/affirm"])
def test_no_reply_to_a_button_becomes_temporarily_unavailable(payload: str):
    status, body, _, _ = call(LimitedRestInput(), message(payload), FakeRasa(reply=None))
    assert status == 200 and "cleiss.fr" in assert_bot_message(body)


@pytest.mark.parametrize("payload", ["/restart", "/session_start", '/session_start{"x": 1}', "/back"])
def test_silent_rasa_commands_return_an_empty_list(payload: str):
    status, body, _, _ = call(LimitedRestInput(), message(payload), FakeRasa(reply=None))
    assert (status, body) == (200, [])


def test_bilingual_messages_have_both_languages():
    for key in ("invalid_request", "empty_message", "unavailable"):
        fr_first, en_first = bilingual(key, "fr"), bilingual(key, "en")
        assert " / " in fr_first and fr_first != en_first
        assert sorted(fr_first.split(" / ")) == sorted(en_first.split(" / "))


# -- a real Sanic server -------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_routes_in_a_real_sanic_server():
    import aiohttp
    from sanic import Sanic

    channel = LimitedRestInput(max_message_chars=30, max_messages_per_minute=2)
    rasa = FakeRasa()
    app = Sanic("pcn_test_channels")
    app.blueprint(channel.blueprint(rasa), url_prefix=f"/webhooks/{channel.url_prefix()}")
    port = _free_port()
    base = f"http://127.0.0.1:{port}/webhooks/rest"

    async def scenario() -> None:
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{base}/limits") as resp:
                    assert resp.status == 200
                    assert await resp.json() == {"max_message_chars": 30, "max_messages_per_minute": 2,
                                                 "max_messages_per_minute_per_client": 60}
                async with session.post(f"{base}/webhook", data=b"\xc3\x28 not utf-8") as resp:
                    assert resp.status == 400
                    assert "invalid" in (await resp.json())[0]["text"]
                async with session.post(f"{base}/webhook", json=message("x" * 31)) as resp:
                    assert resp.status == 413
                async with session.post(f"{base}/webhook", json=message("Bonjour")) as resp:
                    assert resp.status == 200
                    assert await resp.json() == [{"recipient_id": "user-1", "text": "ok"}]
                async with session.post(f"{base}/webhook", json=message("Bonjour")) as resp:
                    assert resp.status == 200
                async with session.post(f"{base}/webhook", json=message("Bonjour")) as resp:
                    assert resp.status == 429
                    assert int(resp.headers["Retry-After"]) >= 59
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())
    assert [m.text for m in rasa.received] == ["Bonjour", "Bonjour"]
