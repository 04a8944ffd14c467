"""Starts the whole desk: database migrations, model, action server, Rasa server,
the demo web page with the chat, and the Streamlit desk. Ctrl-C stops everything.

Used by `make run`. Every process gets the same environment: ``desk_environment()``
(core/settings.py plus a fresh action-server secret); ``processes(env)`` is the
list of servers and their command lines (also used by tests/servers.py).

Safe defaults: every server listens on 127.0.0.1 unless its ``PCN_*_HOST`` says
otherwise; the action server answers only calls carrying ``PCN_ACTIONS_SECRET``;
files are created 0600 (``umask 077``); demo mode refuses to start on a
non-loopback address, and its accounts get random passwords, printed once.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Dict, List

from core.net import is_loopback
from core.settings import REPO_ROOT
from core.settings import MODEL_NAME, MODELS_DIR, environment
from bot.train import train

PY = sys.executable
HOSTS = ("PCN_RASA_HOST", "PCN_ACTIONS_HOST", "PCN_WEB_HOST", "PCN_DASHBOARD_HOST")


def desk_environment() -> Dict[str, str]:
    """The environment of every server: the settings' defaults, and the shared secret
    of the action server (a new random one unless PCN_ACTIONS_SECRET is set)."""
    env = environment()
    if not env.get("PCN_ACTIONS_SECRET", "").strip():
        env["PCN_ACTIONS_SECRET"] = secrets.token_urlsafe(32)
    return env


def exposed_hosts(env: Dict[str, str]) -> List[str]:
    """The servers configured to listen beyond this machine."""
    return [f"{name}={env[name]}" for name in HOSTS if not is_loopback(env[name])]


def cors_origins(env: Dict[str, str]) -> List[str]:
    """Origins allowed to call the REST channel from a browser, one argument each
    (Rasa's --cors takes a list; one string with spaces would match no origin)."""
    web_port = env["PCN_WEB_PORT"]
    configured = env.get("PCN_CORS_ORIGINS", f"http://localhost:{web_port} http://127.0.0.1:{web_port}")
    return configured.replace(",", " ").split()


def processes(env: Dict[str, str]) -> Dict[str, List[str]]:
    rasa_port, actions_port = env["PCN_RASA_PORT"], env["PCN_ACTIONS_PORT"]
    web_port, dashboard_port = env["PCN_WEB_PORT"], env["PCN_DASHBOARD_PORT"]
    endpoints = "endpoints.production.yml" if env.get("PCN_REDIS_HOST") else "endpoints.yml"
    rasa = [
        PY, "-m", "rasa", "run", "--model", str(MODELS_DIR / f"{MODEL_NAME}.tar.gz"),
        "--interface", env["PCN_RASA_HOST"], "--port", rasa_port,
        "--endpoints", endpoints, "--credentials", "credentials.yml",
        "--cors", *cors_origins(env),
    ]
    if env.get("PCN_RASA_TOKEN"):  # the HTTP API (tracker, events) only with a token
        rasa += ["--enable-api", "--auth-token", env["PCN_RASA_TOKEN"]]
    return {
        # reads PCN_ACTIONS_SECRET from the environment (never on a command line: `ps` shows those)
        "actions": [PY, "-m", "actions.server", "--host", env["PCN_ACTIONS_HOST"], "--port", actions_port],
        "rasa": rasa,
        "web": [PY, "-m", "bot.webserver", "--host", env["PCN_WEB_HOST"], "--port", web_port],
        # the other Streamlit options are in .streamlit/config.toml (also for `streamlit run`)
        "dashboard": [
            PY, "-m", "dashboard.serve", "--server.address", env["PCN_DASHBOARD_HOST"],
            "--server.port", dashboard_port,
        ],
    }


def busy_ports(env: Dict[str, str]) -> List[str]:
    """Ports already taken (another desk still running?): said plainly before starting."""
    busy = []
    for name in ("PCN_RASA_PORT", "PCN_ACTIONS_PORT", "PCN_WEB_PORT", "PCN_DASHBOARD_PORT"):
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex(("127.0.0.1", int(env[name]))) == 0:  # something already listens there
                busy.append(f"{env[name]} ({name})")
    return busy


def wait_for(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except Exception:
            time.sleep(1)
    return False


def main() -> int:
    os.umask(0o077)  # the database, the spool and the journal hold personal data
    env = desk_environment()
    busy = busy_ports(env)
    if busy:
        print(f"Port(s) already in use: {', '.join(busy)}. Stop the other desk or set these variables.",
              file=sys.stderr)
        return 1
    env.setdefault("PCN_DEMO", "1")  # `make run` is a demonstration unless PCN_DEMO=0
    exposed = exposed_hosts(env)
    if env["PCN_DEMO"] == "1" and exposed:
        print(f"Demo mode (PCN_DEMO=1) listens on this machine only; refusing {', '.join(exposed)}. "
              "Set PCN_DEMO=0 and create real accounts (python -m dashboard.users add ...).", file=sys.stderr)
        return 1
    workers = env.get("PCN_RASA_WORKERS", "1").strip()
    if not workers.isdigit() or int(workers) < 1:
        print(f"PCN_RASA_WORKERS must be a whole number >= 1, not {workers!r}.", file=sys.stderr)
        return 1
    if int(workers) > 1 and not env.get("PCN_REDIS_HOST"):
        # two workers must never process one conversation at once: Rasa needs a shared lock store
        print("PCN_RASA_WORKERS > 1 needs the Redis lock store: set PCN_REDIS_HOST (and PCN_REDIS_PORT).",
              file=sys.stderr)
        return 1
    env["SANIC_WORKERS"] = workers
    os.chdir(REPO_ROOT)
    subprocess.run([PY, "-m", "db", "upgrade"], env=env, check=True)
    if env["PCN_DEMO"] == "1":
        # Demo accounts with random passwords, printed here once (when they are created).
        subprocess.run([PY, "-m", "dashboard.users", "demo"], env=env, check=False)
        # Synthetic enquiries and tickets; refuses (harmlessly) when demo data exists.
        subprocess.run([PY, "-m", "db.demo"], env=env, check=False)
    if train() != 0:
        print("Training failed: see the messages above.", file=sys.stderr)
        return 1

    children = {name: subprocess.Popen(cmd, env=env) for name, cmd in processes(env).items()}

    def stop(*_: object) -> None:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C, also when started from a script that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, interrupt)
    rasa_url = f"http://{env['PCN_RASA_HOST']}:{env['PCN_RASA_PORT']}"
    if wait_for(rasa_url + "/", timeout=180):
        print(
            "\nPCN desk is running:\n"
            f"  chat on the demo PCN page  http://localhost:{env['PCN_WEB_PORT']}/  (English: /en/)\n"
            f"  agent console and bilan    http://localhost:{env['PCN_DASHBOARD_PORT']}/\n"
            f"  listening on               {', '.join(sorted({env[name] for name in HOSTS}))}\n"
            f"  Rasa REST channel          {rasa_url}/webhooks/rest/webhook\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
    try:
        while all(child.poll() is None for child in children.values()):
            time.sleep(1)
        dead = [name for name, child in children.items() if child.poll() is not None]
        print(f"Stopped because a process exited: {', '.join(dead)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
