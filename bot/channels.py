"""Rasa's REST channel with limits at the HTTP edge.

``LimitedRestInput`` keeps the channel name ``rest`` and its URLs
(``POST /webhooks/rest/webhook``, ``GET /webhooks/rest/``) and adds:

* ``GET /webhooks/rest/limits`` → ``{"max_message_chars": …, "max_messages_per_minute": …}``
  (the chat widget reads it and enforces the size in the browser too);
* validation before anything reaches Rasa — every rejection is a JSON list
  holding one bot message ``{"recipient_id", "text"}`` in French and English,
  so the widget can display it like any other answer:

  ======  ==========================================================
  400     body not UTF-8, not JSON, not an object, nested too deep,
          ``NaN``/``Infinity``; not sent as ``application/json``;
          sender missing, blank, not a short string or Rasa's
          reserved ``default``; metadata not a flat object of short
          strings; message missing, not a string, empty or blank
  413     message longer than ``max_message_chars`` (after
          normalisation), or request body too large — refused from
          its ``Content-Length`` before it is read (Sanic
          ``REQUEST_MAX_SIZE``, ``core/sanic_limits.py``)
  429     more than ``max_messages_per_minute`` messages from one
          ``sender``, or more than ``max_messages_per_minute_per_client``
          from one client address, in the last 60 s (sliding windows,
          in memory, at most ``MAX_TRACKED_SENDERS`` keys each);
          ``Retry-After``
  ======  ==========================================================

  The client address is the socket peer, or the last address of the header
  named by ``PCN_TRUSTED_PROXY_HEADER`` when a reverse proxy sets it
  (``core/net.py``); the header is ignored when that setting is unset.

* text normalisation (NFC; control, zero-width and bidi characters removed;
  lone surrogates removed) — HTML is passed on unchanged, as text: the
  assistant never echoes user text and the widget renders with textContent;
* of ``metadata``, only ``language`` and ``channel`` (short strings) are passed
  on to Rasa (page language, channel): nothing else reaches the tracker store;
* when Rasa produced no reply — what happens when the action server is
  down — or did not finish within ``reply_timeout_seconds`` — what happens
  when it hangs — a bilingual "temporarily unavailable" message instead of
  an empty list. Typed messages and button payloads (``/request_human``…) always get
  a reply from this assistant; only Rasa's built-in commands (``/restart``,
  ``/session_start``, ``/back``) may return an empty list.

Configured in credentials.yml::

    bot.channels.LimitedRestInput:
      max_message_chars: 5000
      max_messages_per_minute: 20
      max_messages_per_minute_per_client: 60
      reply_timeout_seconds: 8

The Sanic server of Rasa gets the body limit of this channel and the timeouts
of ``core/sanic_limits.py`` when it starts.
"""
from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
import unicodedata
from collections import OrderedDict, deque
from typing import Any, Awaitable, Callable, Deque, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import rasa_speedups
from core import net, sanic_limits

logger = logging.getLogger(__name__)
rasa_speedups.apply()  # this module is loaded by every Rasa server of the desk (credentials.yml)

DEFAULT_MAX_MESSAGE_CHARS = 5000
DEFAULT_MAX_MESSAGES_PER_MINUTE = 20
DEFAULT_MAX_MESSAGES_PER_MINUTE_PER_CLIENT = 60
DEFAULT_REPLY_TIMEOUT_SECONDS = 8.0
RESERVED_SENDERS = ("default",)  # Rasa's shared conversation of sender-less requests
METADATA_KEYS = ("language", "channel")
MAX_METADATA_KEYS = 8
MAX_METADATA_VALUE_CHARS = 64
MAX_TRACKED_SENDERS = 10_000
MAX_SENDER_CHARS = 128
WINDOW_SECONDS = 60.0

# The bot's messages at the edge (French first unless the page is English).
MESSAGES: Dict[str, Dict[str, str]] = {
    "invalid_request": {
        "fr": "Votre message n'a pas pu être lu (requête invalide). Rechargez la page et réessayez.",
        "en": "Your message could not be read (invalid request). Please reload the page and try again.",
    },
    "empty_message": {
        "fr": "Votre message est vide. Écrivez votre question puis envoyez-la.",
        "en": "Your message is empty. Please type your question, then send it.",
    },
    "too_long": {
        "fr": "Votre message est trop long : {max} caractères au maximum. Raccourcissez-le "
              "(inutile de détailler votre situation médicale) et renvoyez-le.",
        "en": "Your message is too long: {max} characters at most. Please shorten it "
              "(no need to describe your medical situation) and send it again.",
    },
    "rate_limited": {
        "fr": "Vous envoyez trop de messages à la fois ({max} par minute au maximum). "
              "Patientez {retry} secondes puis réessayez.",
        "en": "You are sending too many messages ({max} per minute at most). "
              "Please wait {retry} seconds and try again.",
    },
    "unavailable": {
        "fr": "L'assistant est momentanément indisponible. Réessayez dans quelques minutes, "
              "ou contactez le PCN via la page contact de https://www.cleiss.fr",
        "en": "The assistant is temporarily unavailable. Please try again in a few minutes, "
              "or contact the NCP through the contact page of https://www.cleiss.fr",
    },
}

# Control characters (C0/C1 except \n and \t), format characters such as
# zero-width spaces/joiners, the BOM and bidi overrides, lone surrogates.
_REMOVED_CATEGORIES = {"Cc", "Cf", "Cs"}
_KEPT = {"\n", "\t"}
_LINE_SEPARATORS = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def normalise_text(text: str) -> str:
    """NFC, without control/zero-width/bidi characters, stripped."""
    text = _LINE_SEPARATORS.sub("\n", text)
    text = "".join(
        c for c in text if c in _KEPT or unicodedata.category(c) not in _REMOVED_CATEGORIES
    )
    return unicodedata.normalize("NFC", text).strip()


# Rasa's built-in commands that may legitimately produce no message.
SILENT_COMMANDS = ("/restart", "/session_start", "/back")


def is_payload(text: str) -> bool:
    """Button payloads ("/request_human", '/inform{"profile": "HCP"}')."""
    return text.startswith("/")


def may_be_silent(text: str) -> bool:
    """True for Rasa's built-in commands, which may produce no reply.

    Every other message — typed text and the widget's buttons (e.g.
    "/request_human") — always gets an answer from the assistant, so an empty
    list means the action server did not answer.
    """
    return is_payload(text) and re.split(r"[{@\s]", text, maxsplit=1)[0] in SILENT_COMMANDS


def bilingual(key: str, language: Optional[str] = None, **values: Any) -> str:
    texts = MESSAGES[key]
    order = ("en", "fr") if language == "en" else ("fr", "en")
    return " / ".join(texts[lang].format(**values) for lang in order)


class SlidingWindowLimiter:
    """At most ``limit`` events per ``window`` seconds per key, in memory.

    The dict of keys is bounded (least recently used keys are forgotten first),
    so a flood of new senders cannot exhaust memory.
    """

    def __init__(
        self,
        limit: int,
        window: float = WINDOW_SECONDS,
        max_keys: int = MAX_TRACKED_SENDERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._events: "OrderedDict[str, Deque[float]]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._events)

    def hit(self, key: str) -> Tuple[bool, int]:
        """Records one event if allowed. Returns (allowed, retry_after_seconds)."""
        if self.limit <= 0:
            return True, 0
        now = self.clock()
        events = self._events.get(key)
        if events is None:
            events = deque()
            self._events[key] = events
            while len(self._events) > self.max_keys:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            retry = max(1, math.ceil(events[0] + self.window - now))
            return False, retry
        events.append(now)
        return True, 0


class EdgeError(Exception):
    """A request refused at the edge: HTTP status + key of MESSAGES (+ format values)."""

    def __init__(
        self,
        status: int,
        key: str,
        headers: Optional[Dict[str, str]] = None,
        sender: Optional[str] = None,
        language: Optional[str] = None,
        **values: Any,
    ) -> None:
        super().__init__(key)
        self.status, self.key, self.headers = status, key, headers or {}
        self.sender, self.language, self.values = sender, language, values


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity, -Infinity


class LimitedRestInput(RestInput):
    """REST channel with message-size and rate limits (see module doc)."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "LimitedRestInput":
        credentials = credentials or {}
        return cls(
            max_message_chars=int(credentials.get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS)),
            max_messages_per_minute=int(
                credentials.get("max_messages_per_minute", DEFAULT_MAX_MESSAGES_PER_MINUTE)
            ),
            max_messages_per_minute_per_client=int(
                credentials.get("max_messages_per_minute_per_client", DEFAULT_MAX_MESSAGES_PER_MINUTE_PER_CLIENT)
            ),
            reply_timeout_seconds=float(credentials.get("reply_timeout_seconds", DEFAULT_REPLY_TIMEOUT_SECONDS)),
        )

    def __init__(
        self,
        max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
        max_messages_per_minute: int = DEFAULT_MAX_MESSAGES_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
        max_messages_per_minute_per_client: int = DEFAULT_MAX_MESSAGES_PER_MINUTE_PER_CLIENT,
        reply_timeout_seconds: float = DEFAULT_REPLY_TIMEOUT_SECONDS,
    ) -> None:
        if min(max_message_chars, max_messages_per_minute, max_messages_per_minute_per_client) <= 0:
            raise ValueError("max_message_chars and the max_messages_per_minute limits must be positive integers")
        if reply_timeout_seconds <= 0:
            raise ValueError("reply_timeout_seconds must be positive")
        self.max_message_chars = max_message_chars
        self.max_messages_per_minute = max_messages_per_minute
        self.max_messages_per_minute_per_client = max_messages_per_minute_per_client
        self.reply_timeout_seconds = reply_timeout_seconds
        # JSON may escape every character as \uXXXX (12 bytes for an astral one)
        self.max_body_bytes = 12 * max_message_chars + 16_384
        self.limiter = SlidingWindowLimiter(max_messages_per_minute, clock=clock)
        self.client_limiter = SlidingWindowLimiter(max_messages_per_minute_per_client, clock=clock)

    def limits(self) -> Dict[str, int]:
        return {
            "max_message_chars": self.max_message_chars,
            "max_messages_per_minute": self.max_messages_per_minute,
            "max_messages_per_minute_per_client": self.max_messages_per_minute_per_client,
        }

    # -- request parsing ---------------------------------------------------
    def parse(self, request: Request) -> Tuple[Optional[str], str, Optional[Dict[str, Any]], str]:
        """(sender, normalised text, metadata, language) or raises EdgeError."""
        body = request.body or b""
        if len(body) > self.max_body_bytes:
            raise EdgeError(413, "too_long", max=self.max_message_chars)
        content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            # a form or text/plain post from a foreign page needs no CORS preflight (CSRF)
            raise EdgeError(400, "invalid_request")
        try:
            data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise EdgeError(400, "invalid_request")
        if not isinstance(data, dict):
            raise EdgeError(400, "invalid_request")

        metadata, language = self.parse_metadata(data.get("metadata"))

        sender = data.get("sender")
        if isinstance(sender, bool) or not isinstance(sender, (str, int)):
            # without a sender Rasa would put every such client in one shared conversation
            raise EdgeError(400, "invalid_request", language=language)
        sender = normalise_text(str(sender))
        if not sender or len(sender) > MAX_SENDER_CHARS or sender.lower() in RESERVED_SENDERS:
            raise EdgeError(400, "invalid_request", language=language)

        message = data.get("message")
        if message is not None and not isinstance(message, str):
            raise EdgeError(400, "invalid_request", sender=sender, language=language)
        text = normalise_text(message or "")
        if not text:
            raise EdgeError(400, "empty_message", sender=sender, language=language)
        if len(text) > self.max_message_chars:
            raise EdgeError(413, "too_long", sender=sender, language=language, max=self.max_message_chars)
        return sender, text, metadata, language

    @staticmethod
    def parse_metadata(value: Any) -> Tuple[Optional[Dict[str, str]], str]:
        """(the kept metadata, page language); a nested or odd metadata is a 400."""
        if value is None:
            return None, ""
        if not isinstance(value, dict) or len(value) > MAX_METADATA_KEYS:
            raise EdgeError(400, "invalid_request")
        for item in value.values():
            if item is not None and (not isinstance(item, str) or len(item) > MAX_METADATA_VALUE_CHARS):
                raise EdgeError(400, "invalid_request")
        kept = {key: value[key] for key in METADATA_KEYS if isinstance(value.get(key), str)}
        return (kept or None), str(kept.get("language") or "")[:2].lower()

    def check_rate(self, sender: str, client: str, language: str) -> None:
        for limiter, key, limit in (
            (self.client_limiter, f"ip:{client}", self.max_messages_per_minute_per_client),
            (self.limiter, sender, self.max_messages_per_minute),
        ):
            allowed, retry = limiter.hit(key)
            if not allowed:
                raise EdgeError(
                    429, "rate_limited", {"Retry-After": str(retry)}, sender=sender, language=language,
                    max=limit, retry=retry,
                )

    @staticmethod
    def client_of(request: Request) -> str:
        return net.client_address(request.ip, request.headers)

    @staticmethod
    def bot_message(recipient_id: Optional[str], text: str) -> List[Dict[str, Any]]:
        return [{"recipient_id": recipient_id or "", "text": text}]

    def error_response(self, error: EdgeError) -> HTTPResponse:
        text = bilingual(error.key, error.language, **error.values)
        return response.json(self.bot_message(error.sender, text), status=error.status, headers=error.headers)

    # -- routes ------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.listener("before_server_start")
        async def limit_the_server(app: Any, _loop: Any) -> None:
            # the whole Rasa server: nothing it serves needs a bigger body than a chat message
            sanic_limits.harden(app, self.max_body_bytes)

        @webhook.exception(PayloadTooLarge)
        async def too_large(request: Request, _exception: Exception) -> HTTPResponse:
            # Sanic refused the body from its Content-Length, before reading it
            return self.error_response(EdgeError(413, "too_long", max=self.max_message_chars))

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/limits", methods=["GET"])
        async def limits(request: Request) -> HTTPResponse:
            return response.json(self.limits())

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Any:
            return await self.handle(request, on_new_message)

        return webhook

    async def handle(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Any:
        try:
            sender, text, metadata, language = self.parse(request)
            self.check_rate(sender, self.client_of(request), language)
        except EdgeError as error:
            return self.error_response(error)

        input_channel = self.name()
        if request.args.get("stream", "false").lower() == "true":
            return response.stream(
                self.stream_response(on_new_message, text, sender, input_channel, metadata),
                content_type="text/event-stream",
            )

        collector = CollectingOutputChannel()
        failed = False
        try:
            # a hung action server must not keep the user waiting: Rasa's own timeout is 5 minutes
            await asyncio.wait_for(
                on_new_message(UserMessage(text, collector, sender, input_channel=input_channel, metadata=metadata)),
                timeout=self.reply_timeout_seconds,
            )
        except asyncio.TimeoutError:
            logger.error("rest.message.received.timeout after %.0f s", self.reply_timeout_seconds)
            failed = True
        except asyncio.CancelledError:
            logger.error("rest.message.received.timeout")
            failed = True
        except Exception:  # noqa: BLE001 - the user must get an answer
            logger.exception("rest.message.received.failure")
            failed = True

        messages = list(collector.messages)
        if failed or (not messages and not may_be_silent(text)):
            logger.warning("rest.message.no_reply sender=%s: answering 'temporarily unavailable'", sender)
            messages += self.bot_message(sender, bilingual("unavailable", language))
        return response.json(messages)
