"""Runs the agent console with HTTP timeouts: ``python -m dashboard.serve [streamlit options]``.

Streamlit's Tornado server keeps a connection that trickles its request
headers open for an hour, and has no time limit for a request body. This
wrapper starts the same ``streamlit run dashboard/app.py`` with Tornado's
``idle_connection_timeout`` (the request headers must arrive within
``HEADER_TIMEOUT_S`` in total; an idle connection is closed then too) and
``body_timeout`` (``BODY_TIMEOUT_S``). An open websocket (a signed-in agent)
is not affected. It also hides error details from the browser
(``client.showErrorDetails = none``: the traceback stays in the server log).
The other options are in ``.streamlit/config.toml``.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import List, Optional

APP = Path(__file__).resolve().parent / "app.py"
HEADER_TIMEOUT_S = 10
BODY_TIMEOUT_S = 30


def install_timeouts() -> None:
    import tornado.httpserver
    from streamlit.web.server import server

    server.HTTPServer = functools.partial(  # the name Streamlit's start_listening() calls
        tornado.httpserver.HTTPServer, idle_connection_timeout=HEADER_TIMEOUT_S, body_timeout=BODY_TIMEOUT_S,
    )


def main(argv: Optional[List[str]] = None) -> int:
    from streamlit.web import cli

    install_timeouts()
    options = list(sys.argv[1:] if argv is None else argv)
    if not any(o.startswith("--client.showErrorDetails") for o in options):
        options = ["--client.showErrorDetails", "none", *options]
    sys.argv = ["streamlit", "run", str(APP), *options]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
