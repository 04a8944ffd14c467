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
    assert set(plan) == {"actions", "rasa", "web", "dashboard", "mail"}
    assert plan["mail"][-2:] == ["-m", "mail"]
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
