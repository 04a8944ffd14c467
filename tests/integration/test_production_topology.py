"""The production topology for real: nginx (TLS) in front of two independent Rasa
servers that share PostgreSQL and the Redis lock store, each supervised by
`python -m bot.serve`; the web page and the console through the same nginx.

20 conversations at once, each of whose turns land on both Rasa servers (nginx's
access log says which server answered each request): no turn is lost, turns
keep their order in the tracker store, each escalation yields exactly one
ticket. Then one Rasa server is killed (SIGKILL) between two turns: the
conversations go on through the other one, and its supervisor restarts it.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.topology import start_topology
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

REDIS = (os.environ.get("PCN_TEST_REDIS_HOST", "127.0.0.1"), int(os.environ.get("PCN_TEST_REDIS_PORT", "6379")))
CONVERSATIONS = 20
TICKET = re.compile(r"PCN-\d{4}-\d{6}")


@pytest.fixture(scope="module")
def redis_server():
    import redis

    try:
        redis.Redis(host=REDIS[0], port=REDIS[1], socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis unreachable at {REDIS}: {error}", pytrace=False)
        pytest.skip(f"Redis unreachable at {REDIS}: {error}")
    return REDIS


@pytest.fixture(scope="module")
def topology(postgres_admin_url, redis_server):
    """One topology for the module, on a fresh PostgreSQL database dropped afterwards."""
    import subprocess
    import sys

    from sqlalchemy.engine import make_url

    from core.settings import REPO_ROOT, environment

    name = f"pcn_topology_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_admin_url, future=True, isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    running = None
    try:
        # the release step, explicit: `make serve` refuses an unmigrated database
        subprocess.run([sys.executable, "-m", "db", "upgrade"], cwd=REPO_ROOT, check=True, capture_output=True,
                       env={**environment(), "PCN_DATABASE_URL": url})
        running = start_topology(url, redis_server, rasa_servers=2)
        yield running
    finally:
        if running is not None:
            running.stop()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Conversation:
    """One asker: a question, then an escalation to its end; every turn recorded with its server."""

    def __init__(self, topology, language: str, client: str) -> None:
        self.topology = topology
        self.client = client
        self.language = language
        self.sender = f"topo-{language}-{uuid.uuid4().hex[:10]}"
        self.sent: list = []
        self.request_ids: list = []
        self.replies: list = []

    def say(self, message: str) -> str:
        replies, request_id = self.topology.send(self.sender, message, self.language, client=self.client)
        self.sent.append(message)
        self.request_ids.append(request_id)
        text = "\n".join(r.get("text", "") for r in replies)
        self.replies.append(text)
        return text

    def first_half(self) -> None:
        self.say("Comment me faire rembourser des soins payés en Espagne ?" if self.language == "fr"
                 else "How do I get reimbursed for treatment I paid for in Spain?")
        self.say("/request_human")

    def second_half(self) -> None:
        self.say("/affirm")  # yes, an adviser
        self.say("/affirm")  # yes, I agree to be contacted (asked before the address)
        done = self.say(f"{self.sender}@example.org")
        assert TICKET.search(done), (self.sender, self.replies)

    def servers(self) -> set:
        upstreams = self.topology.upstreams()
        return {upstreams.get(request_id) for request_id in self.request_ids}


def user_messages(engine, sender: str) -> list:
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT data FROM events WHERE sender_id = :sender AND type_name = 'user' ORDER BY id"),
            {"sender": sender}).all()
    import json

    return [json.loads(row.data)["text"] for row in rows]


def test_two_rasa_servers_behind_nginx_share_conversations_and_survive_one_crash(topology):
    servers = {f"127.0.0.1:{port}" for port in topology.rasa_ports}
    conversations = [Conversation(topology, "fr" if k % 2 else "en", client=f"127.0.0.{10 + k}")
                     for k in range(CONVERSATIONS)]

    with ThreadPoolExecutor(max_workers=CONVERSATIONS) as pool:
        list(pool.map(Conversation.first_half, conversations))
        # one Rasa server crashes between two turns of every conversation
        victim_port = topology.rasa_ports[1]
        victim = topology.supervisor_child("rasa1")
        os.kill(victim, signal.SIGKILL)
        # between turns, not during one: go on once its port refuses connections (a killed
        # multi-threaded process holds its sockets until its last thread is gone)
        wait_until(lambda: not _listening(victim_port), 10, "the killed server's port to close")
        list(pool.map(Conversation.second_half, conversations))
        # its supervisor started it again, and it answers again
        wait_until(lambda: topology.supervisor_child("rasa1") != victim, 30, "the restart of the killed server")
        wait_until(lambda: _answers(victim_port), 300, "the restarted Rasa server")
        # ... and nginx sends requests to it again (it skips a failed server for fail_timeout)
        wait_until(lambda: _routed_to(topology, f"127.0.0.1:{victim_port}"), 60, "nginx to use the server again",
                   interval=0.5)
        # a conversation whose turns all happened to land on one server goes on until it reaches the other
        lock = threading.Lock()

        def reach_both(conversation: Conversation) -> None:
            for _ in range(12):
                with lock:
                    seen = conversation.servers()
                if seen >= servers:
                    return
                conversation.say("/thank")
        list(pool.map(reach_both, conversations))

    for conversation in conversations:
        assert conversation.servers() == servers, (conversation.sender, conversation.servers())

    from core.privacy import redact

    engine = sa.create_engine(topology.env["PCN_DATABASE_URL"], future=True)
    try:
        for conversation in conversations:
            # no turn lost, none twice, in the order sent — whichever server took each (as stored: redacted)
            stored = user_messages(engine, conversation.sender)
            assert stored == [redact(m, use_ner=False) for m in conversation.sent], conversation.sender
            assert "[EMAIL]" in stored and f"{conversation.sender}@example.org" not in stored
        with engine.connect() as connection:
            tickets = connection.execute(sa.text(
                "SELECT conversation_id, reference FROM tickets WHERE conversation_id LIKE 'topo-%'")).all()
    finally:
        engine.dispose()
    assert sorted(t.conversation_id for t in tickets) == sorted(c.sender for c in conversations)  # one each
    for conversation in conversations:
        reference = next(t.reference for t in tickets if t.conversation_id == conversation.sender)
        assert reference in conversation.replies[-1] or any(reference in r for r in conversation.replies)
    assert "rasa exited with -9; restarting in 1 s" in (topology.prefix / "rasa1.log").read_text()


def _routed_to(topology, server: str) -> bool:
    """One GET of the channel's health URL through nginx: did it land on ``server``?"""
    _, headers, _ = topology.request("/webhooks/rest/")
    return topology.upstreams().get(headers.get("X-Request-Id", "")) == server


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _answers(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return response.status == 200
    except Exception:  # noqa: BLE001 - still loading
        return False


def test_nginx_serves_the_page_and_the_console_with_its_websocket_and_hides_the_rest(topology):
    status, headers, body = topology.request("/")
    assert status == 200 and b"pcn-chat.js" in body
    assert headers.get("Strict-Transport-Security", "").startswith("max-age=")
    status, _, body = topology.request("/config.js")
    assert status == 200 and topology.url.encode() in body  # the widget talks to the public origin
    status, _, body = topology.request("/desk/")
    assert status == 200 and b"<title>" in body.lower() or b"streamlit" in body.lower()
    # the console's websocket goes through nginx
    with socket.create_connection(("127.0.0.1", topology.https_port), timeout=10) as raw:
        with topology.tls().wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET /desk/_stcore/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            assert tls.recv(4096).startswith(b"HTTP/1.1 101")
    # Rasa's HTTP API is not published; plain HTTP redirects to HTTPS
    assert topology.request("/conversations/x/tracker")[0] == 404
    assert topology.request("/status")[0] == 404
    with socket.create_connection(("127.0.0.1", topology.http_port), timeout=10) as raw:
        raw.sendall(b"GET /en/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        head = raw.recv(4096)
    assert head.startswith(b"HTTP/1.1 301") and b"Location: https://127.0.0.1/en/" in head
