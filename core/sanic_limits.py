"""Size limits and timeouts of the desk's Sanic servers (Rasa, the action server, the demo page).

Sanic 21.12 (pinned by Rasa 3.6) has the right knobs but loose defaults: it
accepts 100 MB bodies, and its request and response timeouts are *idle*
timeouts, restarted by every byte received, so a client trickling one byte
every few seconds holds a connection for ever (slow-loris).

``harden(app, max_body_bytes)`` sets, on the app:

* ``REQUEST_MAX_SIZE``: a body whose ``Content-Length`` is larger is refused
  with 413 **before it is read**; a chunked body is cut when it gets there;
* ``REQUEST_TIMEOUT`` (``HEADER_TIMEOUT_S``): the request line and headers must
  arrive within this time of the first byte, in total;
* ``RESPONSE_TIMEOUT`` (``TOTAL_TIMEOUT_S``): the whole exchange (headers,
  body, handler) must end within this time of the first byte, in total;
* ``KEEP_ALIVE_TIMEOUT``: an idle kept-alive connection is closed after this.

The "in total" part needs one change to Sanic's protocol: bytes received while
a request is being read no longer restart its clock (``_count_from_first_byte``).
It is installed once per process and checked against the pinned Sanic version.

Importing this module does not import Sanic: the console and the bottom layer
stay free of it.
"""
from __future__ import annotations

from typing import Any

HEADER_TIMEOUT_S = 10
TOTAL_TIMEOUT_S = 30
KEEP_ALIVE_TIMEOUT_S = 5
SANIC_VERSION = "21.12"

_installed = False


def _count_from_first_byte() -> None:
    """Bytes of a request being received do not restart the request's clock."""
    global _installed
    if _installed:
        return
    import sanic
    from sanic.http import Stage
    from sanic.server.protocols.http_protocol import HttpProtocol

    if not sanic.__version__.startswith(SANIC_VERSION):  # the patch below reads Sanic internals
        raise RuntimeError(f"core/sanic_limits.py was written for Sanic {SANIC_VERSION}, not {sanic.__version__}")
    received = HttpProtocol.data_received

    def data_received(self: Any, data: bytes) -> None:
        http = getattr(self, "_http", None)
        reading = http is not None and http.stage in (Stage.REQUEST, Stage.HANDLER)
        started = getattr(self, "_time", None)
        received(self, data)
        if reading and started is not None:
            self._time = started

    HttpProtocol.data_received = data_received
    _installed = True


def harden(app: Any, max_body_bytes: int) -> None:
    """Apply the limits above to a Sanic app (call before it starts serving)."""
    _count_from_first_byte()
    app.config.REQUEST_MAX_SIZE = int(max_body_bytes)
    app.config.REQUEST_TIMEOUT = HEADER_TIMEOUT_S
    app.config.RESPONSE_TIMEOUT = TOTAL_TIMEOUT_S
    app.config.KEEP_ALIVE_TIMEOUT = KEEP_ALIVE_TIMEOUT_S
