"""Security and fault probes against a real desk: Rasa, the action server, the demo page
and the console (Streamlit), started as `make run` starts them (bot/launcher.py), on
PostgreSQL behind a TCP proxy that the probes cut to simulate an outage.

Each probe failed on the code before issue 11 (checked on main 0f8abbf).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Dict, List, Tuple

import pytest
import sqlalchemy as sa

from bot.launcher import processes
from core.settings import REPO_ROOT
from tests.servers import free_port, start_desk
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


class Setup:
    def __init__(self, desk, proxy, direct_url: str, dashboard: subprocess.Popen, dashboard_port: int) -> None:
        self.desk, self.proxy, self.direct_url = desk, proxy, direct_url
        self.dashboard, self.dashboard_port = dashboard, dashboard_port
        self.engine = sa.create_engine(direct_url, future=True)

    def ports(self) -> Dict[str, int]:
        env = self.desk.env
        return {"rasa": int(env["PCN_RASA_PORT"]), "actions": int(env["PCN_ACTIONS_PORT"]),
                "web": int(env["PCN_WEB_PORT"]), "dashboard": self.dashboard_port}

    def scalar(self, sql: str, **params):
        with self.engine.connect() as connection:
            return connection.execute(sa.text(sql), params).scalar()


def wait_until(condition, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def setup(postgres_admin_url):
    from sqlalchemy.engine import make_url

    name = f"pcn_sec_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_admin_url, future=True, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    direct = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    proxy, proxied = TcpProxy.in_front_of(direct)
    desk = start_desk(database_url=proxied, web=True, extra_env={"PCN_SPOOL_FLUSH_SECONDS": "2"})
    port = free_port()
    env = {**desk.env, "PCN_DASHBOARD_PORT": str(port)}
    log = open(desk.workdir / "dashboard.log", "w")
    dashboard = subprocess.Popen(processes(env)["dashboard"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    assert wait_until(lambda: listening(port), 60), "the console did not start"
    state = Setup(desk, proxy, direct, dashboard, port)
    yield state
    dashboard.terminate()
    dashboard.wait(20)
    proxy.cut()
    desk.stop()
    state.engine.dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def post(url: str, body: bytes, headers: Dict[str, str], timeout: float = 30) -> Tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# ---------------------------------------------------------------- exposure
def listen_addresses(port: int) -> List[str]:
    """Local addresses of the sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as handle:
            next(handle)
            for line in handle:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    raw = bytes.fromhex(address)
                    if len(raw) == 4:
                        found.append(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                    else:
                        words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                        found.append(socket.inet_ntop(socket.AF_INET6, words))
    return found


def test_every_server_listens_on_loopback_only(setup):
    for name, port in setup.ports().items():
        addresses = listen_addresses(port)
        assert addresses, name
        assert all(a.startswith("127.") or a == "::1" for a in addresses), (name, addresses)


def test_the_action_server_refuses_a_call_without_its_secret_and_runs_nothing(setup):
    sender = "forged-" + uuid.uuid4().hex[:8]
    call = {"next_action": "action_session_start", "sender_id": sender, "version": "3.6.2", "domain": {},
            "tracker": {"sender_id": sender, "slots": {}, "latest_message": {"text": "", "intent": {}, "entities": []},
                        "events": [], "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": None, "latest_event_time": None, "latest_input_channel": None}}
    status, body = post(f"{setup.desk.actions_url}/webhook", json.dumps(call).encode(),
                        {"Content-Type": "application/json"})
    assert status == 403, body[:200]
    assert b"events" not in body
    # absence cannot be polled for: leave a wrongly started enquiry the time the log takes to write one
    wait_until(lambda: setup.scalar("SELECT count(*) FROM enquiries WHERE conversation_id = :c", c=sender) > 0, 3)
    assert setup.scalar("SELECT count(*) FROM enquiries WHERE conversation_id = :c", c=sender) == 0


# ---------------------------------------------------------------- the edge
def test_a_request_without_sender_is_refused_with_a_bilingual_message(setup):
    status, body = post(f"{setup.desk.rasa_url}/webhooks/rest/webhook", json.dumps({"message": "Bonjour"}).encode(),
                        {"Content-Type": "application/json"})
    text = json.loads(body)[0]["text"]
    assert status == 400 and "requête invalide" in text and "invalid request" in text


def test_deeply_nested_json_is_a_bilingual_400(setup):
    body = '{"sender": "nest", "message": "Bonjour", "metadata": ' + "[" * 5000 + "]" * 5000 + "}"
    status, answer = post(f"{setup.desk.rasa_url}/webhooks/rest/webhook", body.encode(),
                          {"Content-Type": "application/json"})
    assert status == 400 and "invalid request" in json.loads(answer)[0]["text"]


def first_response(port: int, request: bytes, timeout: float) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        try:
            return sock.recv(200)
        except socket.timeout:
            return b""


def test_an_oversize_body_is_refused_before_it_is_read_on_every_server(setup):
    for name, port in setup.ports().items():
        path = {"rasa": "/webhooks/rest/webhook", "actions": "/webhook", "web": "/", "dashboard": "/_stcore/health"}[name]
        request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   f"Content-Length: 50000000\r\n\r\n").encode() + b"x" * 1024
        started = time.monotonic()
        answer = first_response(port, request, timeout=5)
        # 413 (too large), 400 (Tornado), 405 (no POST there) or 403 (no secret): answered without reading it
        assert answer.split(b" ")[1:2] in ([b"413"], [b"400"], [b"405"], [b"403"]), (name, answer[:80])
        assert time.monotonic() - started < 5


def test_trickled_request_headers_are_cut_on_every_server(setup):
    """Slow-loris: one header byte per second; every server must close the connection in time."""
    closed_after: Dict[str, float] = {}

    def trickle(name: str, port: int) -> None:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            while time.monotonic() - started < 25:
                try:
                    sock.sendall(b"a")
                    if sock.recv(200) == b"":   # waits one second: the trickle's pace
                        break
                except socket.timeout:
                    continue
                except OSError:
                    break
                else:
                    break  # an answer (408/400) also ends it
            closed_after[name] = time.monotonic() - started

    threads = [threading.Thread(target=trickle, args=item) for item in setup.ports().items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(40)
    assert set(closed_after) == set(setup.ports())
    assert all(seconds < 20 for seconds in closed_after.values()), closed_after


# ---------------------------------------------------------------- faults
def test_the_spool_is_flushed_in_the_background(setup, monkeypatch):
    from db.repositories.tickets import TicketDraft
    from db.spool import spool_ticket

    monkeypatch.setenv("PCN_SPOOL_DIR", setup.desk.env["PCN_SPOOL_DIR"])
    key = "bg-" + uuid.uuid4().hex
    spool_ticket(TicketDraft(idempotency_key=key, conversation_id="bg-flush", language="fr",
                             question_text="Demande mise en attente", contact_email="bg@example.org"))
    assert wait_until(lambda: setup.scalar("SELECT count(*) FROM tickets WHERE idempotency_key = :k", k=key) == 1, 30)


def test_an_outage_does_not_split_a_conversation_into_two_enquiries(setup):
    sender = "split-" + uuid.uuid4().hex[:6]
    setup.desk.send(sender, "Qu'est-ce que le formulaire S2 ?", "fr")
    count = "SELECT count(*) FROM enquiries WHERE conversation_id = :c"
    questions = ("SELECT count(*) FROM enquiry_questions q JOIN enquiries e ON e.id = q.enquiry_id "
                 "WHERE e.conversation_id = :c")
    assert wait_until(lambda: setup.scalar(questions, c=sender) == 1, 60)
    setup.proxy.cut()
    try:
        setup.desk.send(sender, "Comment me faire rembourser des soins payés en Espagne ?", "fr", timeout=90)
    finally:
        setup.proxy.start()
    assert wait_until(lambda: setup.scalar(questions, c=sender) == 2, 90)
    assert setup.scalar(count, c=sender) == 1


def test_the_enquiry_log_survives_an_action_server_stop_during_an_outage(setup):
    sender = "stop-" + uuid.uuid4().hex[:6]
    desk = setup.desk
    setup.proxy.cut()
    try:
        desk.send(sender, "Qu'est-ce que le formulaire S2 ?", "fr", timeout=90)
        desk.restart("actions")  # SIGTERM while the enquiry log cannot be written
        assert wait_until(lambda: listening(int(desk.env["PCN_ACTIONS_PORT"])), 120)
    finally:
        setup.proxy.start()
    questions = ("SELECT count(*) FROM enquiry_questions q JOIN enquiries e ON e.id = q.enquiry_id "
                 "WHERE e.conversation_id = :c")
    assert wait_until(lambda: setup.scalar(questions, c=sender) == 1, 90), desk.logs()


def test_a_hung_action_server_gives_temporarily_unavailable_within_10_s(setup):
    actions = setup.desk.processes["actions"]
    os.kill(actions.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        answer = setup.desk.send("hung-" + uuid.uuid4().hex[:6], "Bonjour", "fr", timeout=30)
        elapsed = time.monotonic() - started
    finally:
        os.kill(actions.pid, signal.SIGCONT)
    assert elapsed <= 10, elapsed
    assert "momentanément indisponible" in answer[-1]["text"]
