"""The run command's process plan and its start-up checks."""
from __future__ import annotations

import socket

from bot.launcher import busy_ports, cors_origins, processes
from core.settings import environment


def test_embedded_defaults_use_sqlite_and_no_api_token(monkeypatch):
    for name in ("PCN_DATABASE_URL", "PCN_REDIS_HOST", "PCN_RASA_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    env = environment()
    assert env["PCN_DATABASE_URL"].startswith("sqlite:///") and env["PCN_DATABASE_URL"].endswith("data/pcn.db")
    plan = processes(env)
    assert set(plan) == {"actions", "rasa", "web", "dashboard"}
    assert "endpoints.yml" in plan["rasa"] and "--enable-api" not in plan["rasa"]


def test_production_path_uses_the_redis_lock_store_and_a_protected_api(monkeypatch):
    monkeypatch.setenv("PCN_REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("PCN_RASA_TOKEN", "secret")
    plan = processes(environment())
    assert "endpoints.production.yml" in plan["rasa"]
    assert plan["rasa"][plan["rasa"].index("--auth-token") + 1] == "secret"


def test_a_taken_port_is_reported(monkeypatch):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        monkeypatch.setenv("PCN_WEB_PORT", str(port))
        assert f"{port} (PCN_WEB_PORT)" in busy_ports(environment())


def test_cors_origins_are_separate_arguments(monkeypatch):
    monkeypatch.delenv("PCN_CORS_ORIGINS", raising=False)
    monkeypatch.setenv("PCN_WEB_PORT", "8080")
    rasa = processes(environment())["rasa"]
    at = rasa.index("--cors")
    assert rasa[at + 1:at + 3] == ["http://localhost:8080", "http://127.0.0.1:8080"]
    monkeypatch.setenv("PCN_CORS_ORIGINS", "https://www.cleiss.fr, https://cleiss.fr")
    assert cors_origins(environment()) == ["https://www.cleiss.fr", "https://cleiss.fr"]


def test_every_server_listens_on_loopback_unless_configured(monkeypatch):
    for name in ("PCN_RASA_HOST", "PCN_ACTIONS_HOST", "PCN_WEB_HOST", "PCN_DASHBOARD_HOST"):
        monkeypatch.delenv(name, raising=False)
    plan = processes(environment())
    assert plan["rasa"][plan["rasa"].index("--interface") + 1] == "127.0.0.1"
    assert plan["actions"][:3] == [plan["actions"][0], "-m", "actions.server"]
    for name, flag in (("actions", "--host"), ("web", "--host"), ("dashboard", "--server.address")):
        assert plan[name][plan[name].index(flag) + 1] == "127.0.0.1", name
    monkeypatch.setenv("PCN_WEB_HOST", "0.0.0.0")
    from bot.launcher import exposed_hosts

    assert exposed_hosts(environment()) == ["PCN_WEB_HOST=0.0.0.0"]


def test_the_action_server_secret_is_generated_and_never_on_a_command_line(monkeypatch):
    from bot.launcher import desk_environment

    monkeypatch.delenv("PCN_ACTIONS_SECRET", raising=False)
    first, second = desk_environment(), desk_environment()
    assert len(first["PCN_ACTIONS_SECRET"]) >= 32 and first["PCN_ACTIONS_SECRET"] != second["PCN_ACTIONS_SECRET"]
    assert all(first["PCN_ACTIONS_SECRET"] not in " ".join(cmd) for cmd in processes(first).values())
    monkeypatch.setenv("PCN_ACTIONS_SECRET", "configured-secret-0123456789")
    assert desk_environment()["PCN_ACTIONS_SECRET"] == "configured-secret-0123456789"


def test_the_console_hides_error_details_and_gets_http_timeouts(monkeypatch):
    import sys as _sys

    import streamlit.web.cli as cli
    from streamlit.web.server import server

    from dashboard import serve

    seen = {}
    monkeypatch.setattr(cli, "main", lambda: seen.setdefault("argv", list(_sys.argv)) and 0)
    monkeypatch.setattr(server, "HTTPServer", server.HTTPServer)  # undone after the test
    monkeypatch.setattr(_sys, "argv", list(_sys.argv))
    command = processes(environment())["dashboard"]
    assert command[1:3] == ["-m", "dashboard.serve"]
    serve.main(command[3:])
    argv = seen["argv"]
    assert argv[argv.index("--client.showErrorDetails") + 1] == "none"
    assert server.HTTPServer.keywords == {"idle_connection_timeout": 10, "body_timeout": 30}
