"""The demo PCN web page with the chat widget: ``python -m bot.webserver --port 8080``.

A small static server for ``web/`` only, on Sanic (already in the stack: an
event loop, not a thread per connection), with the size limit and the total
header and request timeouts of ``core/sanic_limits.py``:

* GET/HEAD only; no directory listing (a directory serves its ``index.html``
  or 404); no path traversal (the resolved path must stay inside ``web/``;
  dot files, symlinks out of ``web/`` and encoded separators are refused);
* explicit MIME types with ``charset=utf-8`` for text;
* security headers on every response: a strict Content-Security-Policy whose
  ``connect-src`` is the Rasa URL only (no inline script or style),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy``, ``X-Frame-Options``
  and ``Permissions-Policy``;
* ``/config.js`` → ``window.PCN_CONFIG = {"rasaUrl": "http://<host>:<PCN_RASA_PORT>"};``
  where <host> is the host name of the request (validated), or
  ``PCN_PUBLIC_RASA_URL`` when set (behind a reverse proxy).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any, Dict, Optional
from urllib.parse import unquote, urlsplit

from core import settings
from core.sanic_limits import harden

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024  # GET and HEAD only: no body is expected

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"

MIME_TYPES: Dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}

# A host name (RFC 1123 labels), an IPv4 address or a bracketed IPv6 address.
_HOSTNAME = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_IPV6 = re.compile(r"^\[[0-9A-Fa-f:.]+\]$")
_URL = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(?::\d+)?(?:/[A-Za-z0-9._~/-]*)?$")


def request_hostname(host_header: Optional[str]) -> str:
    """The host name of a Host header ("example.org:8080" → "example.org"), or "localhost"."""
    host = (host_header or "").strip()
    if host.startswith("["):
        end = host.find("]")
        candidate = host[: end + 1] if end > 0 else ""
        return candidate if _IPV6.match(candidate) else "localhost"
    candidate = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return candidate if candidate and len(candidate) <= 253 and _HOSTNAME.match(candidate) else "localhost"


def rasa_url(host_header: Optional[str], env: Optional[Dict[str, str]] = None) -> str:
    env = os.environ if env is None else env
    public = (env.get("PCN_PUBLIC_RASA_URL") or "").strip().rstrip("/")
    if public:
        if not _URL.match(public):
            raise ValueError(f"PCN_PUBLIC_RASA_URL is not a plain http(s) URL: {public!r}")
        return public
    port = str(env.get("PCN_RASA_PORT") or "5005").strip()
    if not port.isdigit():
        raise ValueError(f"PCN_RASA_PORT is not a port number: {port!r}")
    return f"http://{request_hostname(host_header)}:{port}"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(connect_url: str) -> Dict[str, str]:
    csp = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {origin_of(connect_url)}",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def resolve(url_path: str, root: Path = WEB_ROOT) -> Optional[Path]:
    """The file of ``web/`` for a URL path, or None (not found / refused)."""
    path = urlsplit(url_path).path
    if "\x00" in path or "\\" in path:
        return None
    decoded = unquote(path, errors="strict") if "%" in path else path
    if "\x00" in decoded or "\\" in decoded:
        return None
    parts = [p for p in decoded.split("/") if p not in ("", ".")]
    if any(p == ".." or p.startswith(".") for p in parts):
        return None
    root = root.resolve()
    candidate = root.joinpath(*parts) if parts else root
    try:
        candidate = candidate.resolve(strict=True)
    except (FileNotFoundError, RuntimeError, OSError):
        return None
    if candidate != root and root not in candidate.parents:
        return None
    if candidate.is_dir():
        candidate = candidate / "index.html"
        if not candidate.is_file():
            return None
    if not candidate.is_file() or candidate.suffix.lower() not in MIME_TYPES:
        return None
    return candidate


def _response(status: int, body: bytes, content_type: str, host: Optional[str],
              extra: Optional[Dict[str, str]] = None, head: bool = False) -> Any:
    from sanic.response import HTTPResponse

    try:
        connect = rasa_url(host)
    except ValueError as error:
        logger.error("configuration error: %s", error)
        connect = "http://localhost:5005"
        if status == 200:
            status, body, content_type = 500, b"Server configuration error\n", "text/plain; charset=utf-8"
    headers = {"Content-Type": content_type, **security_headers(connect), **(extra or {}),
               "Content-Length": str(len(body))}
    return HTTPResponse(b"" if head else body, status=status, headers=headers, content_type=None)


def _error(status: int, host: Optional[str], head: bool = False, extra: Optional[Dict[str, str]] = None) -> Any:
    phrase = HTTPStatus(status).phrase
    return _response(status, f"{status} {phrase}\n".encode(), "text/plain; charset=utf-8", host,
                     {"Cache-Control": "no-store", **(extra or {})}, head)


def serve(raw_path: str, host: Optional[str], head: bool, root: Path = WEB_ROOT) -> Any:
    """The response to GET/HEAD ``raw_path`` (still percent-encoded)."""
    path = urlsplit(raw_path).path
    if path == "/config.js":
        try:
            config = {"rasaUrl": rasa_url(host)}
        except ValueError:
            return _error(500, host, head)
        # json.dumps escapes nothing dangerous here (validated URL), but keep "</" out anyway.
        body = ("window.PCN_CONFIG = " + json.dumps(config).replace("</", "<\\/") + ";\n").encode()
        return _response(200, body, MIME_TYPES[".js"], host, {"Cache-Control": "no-store"}, head)
    try:
        file = resolve(path, root)
    except UnicodeDecodeError:
        file = None
    if file is None:
        return _error(404, host, head)
    if not path.endswith("/") and file.name == "index.html" and not path.endswith("index.html"):
        # /en → /en/ so that relative links in the page work
        return _response(301, b"", "text/plain; charset=utf-8", host, {"Location": path + "/"}, head)
    return _response(200, file.read_bytes(), MIME_TYPES[file.suffix.lower()], host, {"Cache-Control": "no-cache"}, head)


def make_app(root: Path = WEB_ROOT, name: str = "pcn_web") -> Any:
    from sanic import Sanic
    from sanic.exceptions import SanicException

    app = Sanic(name, configure_logging=False)
    app.config.FORWARDED_SECRET = None

    async def handle(request: Any, **_: Any) -> Any:
        host = request.headers.get("host")
        if request.method not in ("GET", "HEAD"):
            return _response(405, b"405 Method Not Allowed\n", "text/plain; charset=utf-8", host, {"Allow": "GET, HEAD"})
        # the raw path, as sent: resolve() decodes it once, itself, and refuses what escapes web/
        raw = request.raw_url.decode("latin-1") if isinstance(request.raw_url, bytes) else str(request.raw_url)
        return serve(raw, host, request.method == "HEAD", root)

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    app.add_route(handle, "/", methods=methods, name="root")
    app.add_route(handle, "/<rest:path>", methods=methods, name="files")

    @app.exception(SanicException)
    async def sanic_error(request: Any, exception: SanicException) -> Any:
        return _error(exception.status_code if exception.status_code in HTTPStatus._value2member_map_ else 400,
                      request.headers.get("host") if request else None)

    harden(app, MAX_BODY_BYTES)
    return app


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description="Serves the demo PCN page and the chat widget (web/).")
    parser.add_argument("--port", type=int, default=int(settings.get("PCN_WEB_PORT") or 8080))
    parser.add_argument("--host", default=settings.get("PCN_WEB_HOST"))
    args = parser.parse_args(argv)
    rasa_url(None)  # fail early on a bad PCN_PUBLIC_RASA_URL / PCN_RASA_PORT
    app = make_app()
    print(f"PCN demo page on http://{args.host}:{args.port}/ (web/: {WEB_ROOT})", flush=True)
    app.run(host=args.host, port=args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
