"""bot/webserver.py: the static server of the demo page (a real server process), and static checks of web/."""
from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from bot import webserver
from bot.webserver import WEB_ROOT, rasa_url, request_hostname, resolve
from core.settings import REPO_ROOT

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


def start_webserver(**env: str) -> Tuple[subprocess.Popen, Tuple[str, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ = {k: v for k, v in os.environ.items() if k != "PCN_PUBLIC_RASA_URL"}
    environ.update({"PCN_RASA_PORT": "5105", "PYTHONPATH": str(REPO_ROOT), **env})
    process = subprocess.Popen([sys.executable, "-m", "bot.webserver", "--host", "127.0.0.1", "--port", str(port)],
                               cwd=REPO_ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, ("127.0.0.1", port)
        except OSError:
            assert process.poll() is None, "the web server exited"
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the web server did not start")


@pytest.fixture(scope="module")
def server() -> Iterator[Tuple[str, int]]:
    process, address = start_webserver()
    yield address
    process.terminate()
    process.wait(10)


def fetch(address: Tuple[str, int], path: str, method: str = "GET",
          headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any, bytes]:
    connection = http.client.HTTPConnection(*address, timeout=5)
    try:
        connection.putrequest(method, path, skip_host=bool(headers and "Host" in headers), skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.headers, response.read()  # names: case-insensitive
    finally:
        connection.close()


# -- pages and assets ------------------------------------------------------------
@pytest.mark.parametrize(
    "path, mime, marker",
    [
        ("/", "text/html; charset=utf-8", b'<html lang="fr">'),
        ("/index.html", "text/html; charset=utf-8", b'<html lang="fr">'),
        ("/en/", "text/html; charset=utf-8", b'<html lang="en">'),
        ("/static/pcn-chat.js", "text/javascript; charset=utf-8", b"textContent"),
        ("/static/pcn-chat.css", "text/css; charset=utf-8", b".pcn-launcher"),
        ("/donnees-personnelles.html", "text/html; charset=utf-8", "sécurité sociale".encode()),
    ],
)
def test_serves_web_files_with_mime_type_and_security_headers(server, path: str, mime: str, marker: bytes):
    status, headers, body = fetch(server, path)
    assert status == 200
    assert headers["Content-Type"] == mime
    assert marker in body
    assert int(headers["Content-Length"]) == len(body)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "connect-src http://127.0.0.1:5105;" in csp
    assert "frame-ancestors 'none'" in csp


def test_head_has_headers_but_no_body(server):
    status, headers, body = fetch(server, "/", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) > 0


def test_directory_without_slash_redirects(server):
    status, headers, _ = fetch(server, "/en")
    assert status == 301 and headers["Location"] == "/en/"


@pytest.mark.parametrize("path", ["/static/", "/static", "/en/static/", "/nothing.html", "/web/index.html"])
def test_no_directory_listing_and_404(server, path: str):
    status, headers, body = fetch(server, path)
    assert status == 404
    assert b"<a href" not in body
    for name in SECURITY_HEADERS:
        assert name in headers


@pytest.mark.parametrize(
    "path",
    [
        "/../bot/webserver.py",
        "/../../etc/passwd",
        "/%2e%2e/bot/webserver.py",
        "/static/%2e%2e/%2e%2e/bot/webserver.py",
        "/static/..%2f..%2fbot%2fwebserver.py",
        "/..%5c..%5cbot%5cwebserver.py",
        "/static\\..\\..\\bot\\webserver.py",
        "/%00/etc/passwd",
        "/index.html%00.js",
        "/%c0%ae%c0%ae/bot/webserver.py",
        "//etc/passwd",
        "/.git/config",
        "/static/.hidden.js",
    ],
)
def test_path_traversal_is_refused(server, path: str):
    status, _, body = fetch(server, path)
    assert status in (301, 404), path
    assert b"import" not in body and b"root:" not in body


def test_resolve_refuses_symlinks_out_of_the_root(tmp_path: Path):
    root = tmp_path / "web"
    root.mkdir()
    (root / "index.html").write_text("<html></html>")
    secret = tmp_path / "secret.html"
    secret.write_text("secret")
    (root / "link.html").symlink_to(secret)
    (root / "notes.py").write_text("x = 1")
    assert resolve("/", root) == (root / "index.html").resolve()
    assert resolve("/link.html", root) is None
    assert resolve("/notes.py", root) is None          # unknown type: not served


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_only_get_and_head(server, method: str):
    status, headers, _ = fetch(server, "/", method=method)
    assert status == 405 and headers["Allow"] == "GET, HEAD"


# -- /config.js ----------------------------------------------------------------------
def test_config_js_uses_the_request_host_and_rasa_port(server):
    status, headers, body = fetch(server, "/config.js", headers={"Host": "pcn.example.org:8080"})
    assert status == 200
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert headers["Cache-Control"] == "no-store"
    assert body == b'window.PCN_CONFIG = {"rasaUrl": "http://pcn.example.org:5105"};\n'
    assert "connect-src http://pcn.example.org:5105;" in headers["Content-Security-Policy"]


def test_config_js_with_public_rasa_url():
    process, address = start_webserver(PCN_PUBLIC_RASA_URL="https://chat.example.org/")
    try:
        _, headers, body = fetch(address, "/config.js", headers={"Host": "www.example.org"})
    finally:
        process.terminate()
        process.wait(10)
    assert body == b'window.PCN_CONFIG = {"rasaUrl": "https://chat.example.org"};\n'
    assert "connect-src https://chat.example.org;" in headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "host",
    ['evil";alert(1);//', "a b", "x</script>", "exa_mple.org", "-bad.org", "", "host:1:2:3", "é.fr"],
)
def test_hostile_host_header_falls_back_to_localhost(server, host: str):
    status, headers, body = fetch(server, "/config.js", headers={"Host": host} if host else {"Host": ""})
    assert status == 200
    assert body == b'window.PCN_CONFIG = {"rasaUrl": "http://localhost:5105"};\n'
    assert "connect-src http://localhost:5105;" in headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "header, expected",
    [
        ("localhost:8080", "localhost"),
        ("127.0.0.1:8080", "127.0.0.1"),
        ("[::1]:8080", "[::1]"),
        ("[::1]", "[::1]"),
        ("Example.ORG", "Example.ORG"),
        ("[::1]evil", "[::1]"),
        ("[zz]", "localhost"),
        (None, "localhost"),
    ],
)
def test_request_hostname(header: Optional[str], expected: str):
    assert request_hostname(header) == expected


def test_rasa_url_defaults_and_validation():
    assert rasa_url("h:1", {}) == "http://h:5005"
    assert rasa_url("h:1", {"PCN_RASA_PORT": "5105"}) == "http://h:5105"
    with pytest.raises(ValueError):
        rasa_url("h", {"PCN_RASA_PORT": "5005;x"})
    with pytest.raises(ValueError):
        rasa_url("h", {"PCN_PUBLIC_RASA_URL": "javascript:alert(1)"})
    with pytest.raises(ValueError):
        rasa_url("h", {"PCN_PUBLIC_RASA_URL": "https://x.org/\"; alert(1)"})


def test_main_parses_port_and_listens_on_loopback_by_default(monkeypatch: pytest.MonkeyPatch):
    started: List[Tuple[str, int]] = []

    class FakeApp:
        def run(self, host: str, port: int, **_: object) -> None:
            started.append((host, port))

    monkeypatch.delenv("PCN_WEB_HOST", raising=False)
    monkeypatch.setattr(webserver, "make_app", lambda: FakeApp())
    assert webserver.main(["--port", "8181"]) == 0
    assert webserver.main(["--port", "8182", "--host", "0.0.0.0"]) == 0
    assert started == [("127.0.0.1", 8181), ("0.0.0.0", 8182)]


# -- static checks of web/ (strict CSP, no HTML injection sinks) ------------------------
class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: List[str] = []
        self.scripts: List[str] = []
        self.lang: Optional[str] = None
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"<{tag} {name}>")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:>")
            if name in ("src", "href") and value and re.match(r"^(https?:)?//", value) and tag in ("script", "link"):
                self.problems.append(f"<{tag}> loaded from elsewhere: {value}")
        if tag == "script":
            self._in_script = True
            self.scripts.append(attributes.get("src") or "")
        if tag == "style":
            self.problems.append("<style> element")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline script")


@pytest.mark.parametrize("page", sorted(p.relative_to(WEB_ROOT).as_posix() for p in WEB_ROOT.rglob("*.html")))
def test_pages_work_under_a_strict_csp(page: str):
    audit = _Audit()
    audit.feed((WEB_ROOT / page).read_text(encoding="utf-8"))
    assert audit.problems == []
    assert audit.lang in ("fr", "en")
    if page in ("index.html", "en/index.html"):
        assert audit.scripts == ["/config.js", "/static/pcn-chat.js"]


def test_widget_never_parses_html():
    source = (WEB_ROOT / "static" / "pcn-chat.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                 "setTimeout(\"", "createContextualFragment", "DOMParser"):
        assert sink not in code, sink
    assert "textContent" in code and "createTextNode" in code
