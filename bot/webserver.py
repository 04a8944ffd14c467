"""The demo PCN web page with the chat widget: ``python -m bot.webserver --port 8080``.

A small static server (stdlib ``ThreadingHTTPServer``) for ``web/`` only:

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
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Optional
from urllib.parse import unquote, urlsplit

from core import settings

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
    public = (settings.get("PCN_PUBLIC_RASA_URL", env) or "").rstrip("/")
    if public:
        if not _URL.match(public):
            raise ValueError(f"PCN_PUBLIC_RASA_URL is not a plain http(s) URL: {public!r}")
        return public
    port = settings.get("PCN_RASA_PORT", env)
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


class Handler(BaseHTTPRequestHandler):
    server_version = "PCN-web"
    protocol_version = "HTTP/1.1"
    root: Path = WEB_ROOT

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        sys.stderr.write("web %s - %s\n" % (self.address_string(), format % args))

    def _send(self, status: int, body: bytes, content_type: str, extra: Optional[Dict[str, str]] = None,
              head: bool = False) -> None:
        try:
            connect = rasa_url(self.headers.get("Host"))
        except ValueError as error:
            self.log_message("configuration error: %s", error)
            connect = "http://localhost:5005"
            if status == 200:
                status, body, content_type = 500, b"Server configuration error\n", "text/plain; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**security_headers(connect), **(extra or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _error(self, status: int, head: bool = False) -> None:
        phrase = HTTPStatus(status).phrase
        self._send(status, f"{status} {phrase}\n".encode(), "text/plain; charset=utf-8",
                   {"Cache-Control": "no-store"}, head)

    def _serve(self, head: bool) -> None:
        path = urlsplit(self.path).path
        if path == "/config.js":
            try:
                config = {"rasaUrl": rasa_url(self.headers.get("Host"))}
            except ValueError:
                return self._error(500, head)
            # json.dumps escapes nothing dangerous here (validated URL), but keep "</" out anyway.
            body = ("window.PCN_CONFIG = " + json.dumps(config).replace("</", "<\\/") + ";\n").encode()
            return self._send(200, body, MIME_TYPES[".js"], {"Cache-Control": "no-store"}, head)
        try:
            file = resolve(path, self.root)
        except UnicodeDecodeError:
            file = None
        if file is None:
            return self._error(404, head)
        if not path.endswith("/") and file.name == "index.html" and not path.endswith("index.html"):
            # /en → /en/ so that relative links in the page work
            location = path + "/"
            return self._send(301, b"", "text/plain; charset=utf-8", {"Location": location}, head)
        body = file.read_bytes()
        self._send(200, body, MIME_TYPES[file.suffix.lower()], {"Cache-Control": "no-cache"}, head)

    def do_GET(self) -> None:  # noqa: N802
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def _not_allowed(self) -> None:
        self._send(405, b"405 Method Not Allowed\n", "text/plain; charset=utf-8", {"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed  # noqa: N815


def make_server(host: str, port: int, root: Path = WEB_ROOT) -> ThreadingHTTPServer:
    handler = type("PCNHandler", (Handler,), {"root": root})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description="Serves the demo PCN page and the chat widget (web/).")
    parser.add_argument("--port", type=int, default=int(settings.get("PCN_WEB_PORT")))
    parser.add_argument("--host", default=settings.get("PCN_WEB_HOST"))
    args = parser.parse_args(argv)
    rasa_url(None)  # fail early on a bad PCN_PUBLIC_RASA_URL / PCN_RASA_PORT
    server = make_server(args.host, args.port)
    print(f"PCN demo page on http://{args.host}:{args.port}/ (web/: {WEB_ROOT})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
