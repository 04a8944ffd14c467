"""The action server, reachable only by Rasa: ``python -m actions.server --port 5055``.

rasa_sdk's own server (``python -m rasa_sdk``) listens on every interface and
runs any action for whoever posts a tracker: anyone who reached port 5055
could create tickets with unchecked contents. This one runs the same rasa_sdk
app (same routes, same executor) with:

* the address ``PCN_ACTIONS_HOST`` (default 127.0.0.1);
* a shared secret: every call but ``GET /health`` must carry the header
  ``X-PCN-Actions-Secret: <PCN_ACTIONS_SECRET>``, which Rasa sends from
  ``endpoints.yml`` (``action_endpoint.headers``); a call without it gets 403
  and runs nothing. The server refuses to start without a secret;
* no CORS (no browser calls it) and errors that do not echo the request;
* the size limit and timeouts of ``core/sanic_limits.py``;
* the background work of the actions while it runs: the ticket spool is
  retried every ``PCN_SPOOL_FLUSH_SECONDS`` and the enquiry log's journal of a
  previous run is replayed (``actions/enquiry_log.py``).
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from typing import Any, Optional

from core import settings
from core.sanic_limits import harden

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-PCN-Actions-Secret"
OPEN_PATHS = ("/health",)
# A tracker of a long conversation with 5,000-character messages (all events of the session).
MAX_BODY_BYTES = 8 * 1024 * 1024


def secret_matches(given: Optional[str], secret: str) -> bool:
    return hmac.compare_digest((given or "").encode("utf-8"), secret.encode("utf-8"))


def create_app(secret: str, package: str = "actions") -> Any:
    if not secret or len(secret) < 16:
        raise ValueError("PCN_ACTIONS_SECRET must be set (16 characters at least): Rasa sends it to this server")
    from rasa_sdk.endpoint import create_app as rasa_sdk_app
    from sanic import response
    from sanic.exceptions import SanicException

    app = rasa_sdk_app(package, cors_origins=[])

    @app.middleware("request")
    async def only_rasa(request: Any) -> Any:
        if request.path in OPEN_PATHS:
            return None
        if not secret_matches(request.headers.get(SECRET_HEADER), secret):
            logger.warning("action server: call to %s without the shared secret refused", request.path)
            return response.json({"error": "forbidden"}, status=403)
        return None

    @app.exception(Exception)
    async def error(request: Any, exception: Exception) -> Any:
        # rasa_sdk's own handler answers with the request body (the whole tracker)
        if isinstance(exception, SanicException):
            return response.json({"error": type(exception).__name__}, status=exception.status_code)
        logger.error("action server: %s on %s", type(exception).__name__, request.path, exc_info=exception)
        return response.json({"error": "internal error"}, status=500)

    @app.listener("before_server_start")
    async def start_background_work(app: Any, _loop: Any) -> None:
        from actions import enquiry_log
        from db import spool

        enquiry_log.resume()
        spool.start_background_flush(settings.integer("PCN_SPOOL_FLUSH_SECONDS"))

    @app.listener("after_server_stop")
    async def stop_background_work(app: Any, _loop: Any) -> None:
        from actions import enquiry_log
        from db import spool

        spool.stop_background_flush()
        enquiry_log.shutdown()

    harden(app, MAX_BODY_BYTES)
    return app


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description="PCN desk action server (rasa_sdk, reachable by Rasa only)")
    parser.add_argument("--host", default=settings.get("PCN_ACTIONS_HOST"))
    parser.add_argument("--port", type=int, default=int(settings.get("PCN_ACTIONS_PORT") or 5055))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    try:
        app = create_app(os.environ.get("PCN_ACTIONS_SECRET", ""))
    except ValueError as error:
        print(f"actions.server: {error}", file=sys.stderr)
        return 2
    logger.info("action server on http://%s:%s (Rasa only: shared secret required)", args.host, args.port)
    app.run(host=args.host, port=args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
