"""A real running desk for integration and browser tests.

Starts the action server, the Rasa server (trained model models/pcn.tar.gz)
and the demo web server on free ports, against a fresh migrated database
(SQLite by default; PCN_TEST_DATABASE_URL selects another one).
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from core.settings import REPO_ROOT
from bot.launcher import desk_environment, processes
from core.settings import MODEL_NAME, MODELS_DIR
from tests.waiting import wait_until

MODEL = MODELS_DIR / f"{MODEL_NAME}.tar.gz"
TOKEN = "test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except Exception:
        return False


# The public reaches the desk from many addresses, behind the proxy header the desk trusts:
# a desk started with many_people=True counts each conversation as its own client, so the
# edge's per-client rate limit counts people, not the test run or the benchmark.
PEOPLE_HEADER = "X-Forwarded-For"


def client_address(sender: str) -> str:
    """A stable private address per conversation."""
    digest = hashlib.sha256(sender.encode("utf-8")).digest()
    return f"10.{digest[0]}.{digest[1]}.{digest[2] or 1}"


@dataclass
class Desk:
    rasa_url: str
    actions_url: str
    web_url: str
    database_url: str
    workdir: Path
    env: Dict[str, str]
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)
    commands: Dict[str, List[str]] = field(default_factory=dict)
    people_header: Optional[str] = None  # set by start_desk(many_people=True)

    def send(self, sender: str, message: str, language: Optional[str] = "fr", timeout: float = 30,
             headers: Optional[Dict[str, str]] = None) -> List[dict]:
        """One user message through Rasa's REST channel; returns the bot messages."""
        if headers is None and self.people_header:
            headers = {self.people_header: client_address(sender)}
        body = {"sender": sender, "message": message}
        if language:
            body["metadata"] = {"language": language, "channel": "rest"}
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook",
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def tracker(self, sender: str) -> dict:
        request = urllib.request.Request(f"{self.rasa_url}/conversations/{sender}/tracker?token={TOKEN}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def logs(self) -> str:
        return "\n".join(
            f"===== {path.name}\n" + path.read_text(errors="replace")[-4000:]
            for path in sorted(self.workdir.glob("*.log"))
        )

    def start(self, name: str) -> subprocess.Popen:
        """Starts (again) one server of the desk, logging to <name>.log (appended)."""
        log = open(self.workdir / f"{name}.log", "a")
        self.processes[name] = subprocess.Popen(self.commands[name], cwd=REPO_ROOT, env=self.env, stdout=log,
                                                stderr=subprocess.STDOUT)
        return self.processes[name]

    def restart(self, name: str) -> subprocess.Popen:
        """Stops one server as an operator would (SIGTERM, then waits) and starts it again."""
        process = self.processes[name]
        process.terminate()
        process.wait(30)
        return self.start(name)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def start_desk(database_url: Optional[str] = None, web: bool = True, endpoints: str = "endpoints.yml",
               extra_env: Optional[Dict[str, str]] = None, many_people: bool = False) -> Desk:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (the README test command does it)")
    workdir = Path(tempfile.mkdtemp(prefix="pcn-desk-"))
    database_url = database_url or os.environ.get("PCN_TEST_DATABASE_URL") or f"sqlite:///{workdir / 'desk.db'}"
    rasa_port, actions_port, web_port = free_port(), free_port(), free_port()
    env = desk_environment()
    env.update(
        PCN_DATABASE_URL=database_url,
        PCN_RASA_PORT=str(rasa_port),
        PCN_ACTIONS_PORT=str(actions_port),
        PCN_WEB_PORT=str(web_port),
        PCN_ACTION_ENDPOINT=f"http://127.0.0.1:{actions_port}/webhook",
        PCN_SPOOL_DIR=str(workdir / "spool"),
    )
    if many_people:
        env["PCN_TRUSTED_PROXY_HEADER"] = PEOPLE_HEADER
    env.update(extra_env or {})
    subprocess.run([sys.executable, "-m", "db", "upgrade"], env=env, cwd=REPO_ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    desk = Desk(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        actions_url=f"http://127.0.0.1:{actions_port}",
        web_url=f"http://127.0.0.1:{web_port}",
        database_url=database_url,
        workdir=workdir,
        env=env,
        people_header=PEOPLE_HEADER if many_people else None,
    )
    # the servers and command lines of `make run` (bot/launcher.py), with the API on for tests
    plan = processes({**env, "PCN_RASA_TOKEN": TOKEN})
    plan["rasa"][plan["rasa"].index("--endpoints") + 1] = endpoints
    commands = {"actions": plan["actions"], "rasa": plan["rasa"]}
    if web:
        commands["web"] = plan["web"]
    desk.commands = commands
    for name in commands:
        desk.start(name)
    checks = {"actions": f"{desk.actions_url}/health", "rasa": f"{desk.rasa_url}/status?token={TOKEN}",
              "web": f"{desk.web_url}/"}
    for name in desk.processes:
        try:
            wait_until(lambda name=name: _ready(checks[name]) or desk.processes[name].poll() is not None,
                       240, f"the {name} server", interval=1)
        except TimeoutError:
            pass
        if not _ready(checks[name]):
            logs = desk.logs()
            desk.stop()
            pytest.fail(f"{name} server did not start\n{logs}")
    return desk
