"""Production mode (bot/serve.py) and the deployment files (deploy/).

`make serve` never trains nor migrates: it refuses to start, saying what to
run, without a model or on a database behind the code; it restarts a service
that exits, with a growing back-off. The systemd units pass
`systemd-analyze verify` and the nginx config passes `nginx -t`.
"""
from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot import serve
from core.settings import REPO_ROOT
from tests.waiting import wait_until

UNITS = REPO_ROOT / "deploy" / "systemd"


def run_serve(*args: str, env: dict) -> subprocess.CompletedProcess:
    from core.settings import environment

    production = {"PCN_DEMO": "0", "PCN_ACTIONS_SECRET": "a-secret-shared-by-the-servers"}
    return subprocess.run([sys.executable, "-m", "bot.serve", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120, env={**environment(), **production, **env})


def test_serve_refuses_to_start_without_a_model(tmp_path, migrated_db):
    result = run_serve("--check", env={"PCN_MODEL": str(tmp_path / "missing.tar.gz"), "PCN_DATABASE_URL": migrated_db})
    assert result.returncode == 2
    assert "No trained model" in result.stderr and "make train" in result.stderr


def test_serve_refuses_demo_mode_and_a_missing_shared_secret(tmp_path, migrated_db):
    model = tmp_path / "pcn.tar.gz"
    model.write_bytes(b"")
    ready = {"PCN_MODEL": str(model), "PCN_DATABASE_URL": migrated_db}
    demo = run_serve("--check", env={**ready, "PCN_DEMO": "1"})
    assert demo.returncode == 2 and "PCN_DEMO=1" in demo.stderr
    secretless = run_serve("--check", env={**ready, "PCN_ACTIONS_SECRET": ""})
    assert secretless.returncode == 2 and "Set PCN_ACTIONS_SECRET" in secretless.stderr
    assert run_serve("--check", "--only", "web,dashboard", env={**ready, "PCN_ACTIONS_SECRET": ""}).returncode == 0


def test_serve_refuses_to_start_on_a_database_behind_the_code(tmp_path, sqlite_url):
    model = tmp_path / "pcn.tar.gz"
    model.write_bytes(b"")
    result = run_serve("--check", env={"PCN_MODEL": str(model), "PCN_DATABASE_URL": sqlite_url})
    assert result.returncode == 2
    assert "make migrate" in result.stderr and "no revision" in result.stderr
    import sqlalchemy as sa

    engine = sa.create_engine(sqlite_url)
    assert sa.inspect(engine).get_table_names() == []  # it did not migrate it
    engine.dispose()


def test_serve_starts_once_model_and_migrations_are_there(tmp_path, migrated_db):
    model = tmp_path / "pcn.tar.gz"
    model.write_bytes(b"")
    result = run_serve("--check", env={"PCN_MODEL": str(model), "PCN_DATABASE_URL": migrated_db})
    assert result.returncode == 0, result.stderr
    assert "ready" in result.stdout


def test_a_service_without_the_model_needs_no_model(tmp_path, migrated_db):
    result = run_serve("--check", "--only", "actions,web", env={"PCN_MODEL": str(tmp_path / "none"),
                                                                "PCN_DATABASE_URL": migrated_db})
    assert result.returncode == 0, result.stderr


def test_a_crashed_service_is_restarted_with_a_growing_back_off(monkeypatch, capsys):
    monkeypatch.setattr(serve, "FIRST_BACKOFF", 0.2)
    supervisor = serve.Supervisor({"crashy": [sys.executable, "-c", "import sys; sys.exit(3)"]}, env=None)
    service = supervisor.services[0]
    supervisor.start(service)
    try:
        def restarted_three_times() -> bool:
            supervisor.step()
            return service.restarts >= 3
        wait_until(restarted_three_times, timeout=30, what="three restarts", interval=0.05)
    finally:
        supervisor.stop()
    waits = [line for line in capsys.readouterr().out.splitlines() if "exited with 3; restarting in" in line]
    assert len(waits) >= 3
    assert service.backoff == pytest.approx(0.2 * 2 ** service.restarts)  # doubled after each crash


def test_a_service_that_ran_long_enough_starts_again_from_the_first_back_off(monkeypatch):
    supervisor = serve.Supervisor({"x": [sys.executable, "-c", "pass"]}, env=None)
    service = supervisor.services[0]
    service.backoff = 32.0
    supervisor.start(service)
    service.process.wait(timeout=30)
    service.started_at -= serve.HEALTHY_AFTER  # as if it had run for a minute
    supervisor.step()
    assert service.restart_at is not None and service.backoff == 2 * serve.FIRST_BACKOFF


def unit_files():
    return sorted(p for p in UNITS.iterdir() if p.suffix in (".service", ".timer", ".target"))


def test_the_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    copies = []
    for unit in unit_files():
        # the units say /opt/pcn-desk: point them at this checkout so that ExecStart exists
        text = unit.read_text(encoding="utf-8").replace("/opt/pcn-desk/.venv/bin/python", sys.executable)
        name = unit.name.replace("@.service", "@5005.service")
        (tmp_path / name).write_text(text.replace("/opt/pcn-desk", str(REPO_ROOT)), encoding="utf-8")
        copies.append(str(tmp_path / name))
    result = subprocess.run([analyze, "verify", "--man=no", *copies], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_every_unit_starts_a_real_command_and_no_service_unit_trains_or_migrates_implicitly():
    services = set()
    for unit in unit_files():
        if unit.suffix != ".service":
            continue
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        parser.read(unit)
        command = parser["Service"]["ExecStart"].split()
        assert command[:2] == ["/opt/pcn-desk/.venv/bin/python", "-m"], unit.name
        if command[2] == "bot.serve":
            services.add(serve.parse(command[3:]).exec_service)
            assert parser["Service"]["Restart"] == "always" and "pcn-migrate.service" in parser["Unit"]["Requires"]
        else:
            assert command[2] == "db" and command[3] in ("upgrade", "retention"), unit.name
            assert parser["Service"]["Type"] == "oneshot"
            known = subprocess.run([sys.executable, "-m", "db", *command[3:], "--help"], cwd=REPO_ROOT,
                                   capture_output=True, text=True, timeout=60)
            assert known.returncode == 0, (unit.name, known.stderr)  # the data layer has this command
    assert services == set(serve.SERVICES)  # one unit per service
    timer = configparser.ConfigParser(interpolation=None)
    timer.read(UNITS / "pcn-retention.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == "true"


def test_the_nginx_config_passes_nginx_t(tmp_path):
    from tests.topology import NGINX, make_certificate, nginx_config

    if not Path(NGINX).exists():
        pytest.fail("nginx is missing: `scripts/setup.sh --system` installs it (make test does)")
    cert, key = make_certificate(tmp_path)
    config = nginx_config(tmp_path, 8443, 8081, [5005, 5006], 8080, 8501, cert, key)
    result = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    upstreams = (tmp_path / "upstreams.conf").read_text()
    assert "server 127.0.0.1:5005" in upstreams and "server 127.0.0.1:5006" in upstreams
