"""The desk is a Python package: the wheel builds, installs on its own and finds its data.

Built from a copy of the sources (a build writes build/ and *.egg-info next to
them), installed with `pip install --no-deps --target` into a temporary folder,
then used by a process whose path does not contain the repository: the
packages import, and the data files the code reads at run time (content/,
domain/, web/, labels.yml, alembic.ini and the migrations) are found there.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from core.settings import REPO_ROOT

# the packages pyproject.toml declares (mail/ joins when it exists)
CODE_PACKAGES = ["core", "bot", "bot.nlu", "actions", "db", "db.repositories", "db.migrations",
                 "dashboard", "dashboard.app_pages", "mail"]
# what the build needs from the repository; the rest (tests, bench, nlu_data, .venv…) stays out
SOURCES = ["pyproject.toml", "README.md", "requirements.txt", "requirements-dev.txt", "core", "bot", "actions",
           "db", "dashboard", "content", "web", "domain", "domain.yml", "mail"]

PROBE = r"""
import importlib, json, sys
from pathlib import Path
target = Path(sys.argv[1]).resolve()
packages = json.loads(sys.argv[2])
out = {"outside": [p for p in packages if not Path(importlib.import_module(p).__path__[0]).resolve().is_relative_to(target)]}

from core import settings
from core.content import load_answers, load_countries_file, load_vocabularies
out["repo_root"] = str(settings.REPO_ROOT)
out["answers"] = len(load_answers())
out["countries"] = len(load_countries_file()["countries"])
out["statuses"] = sorted(load_vocabularies()["ticket_statuses"])

from dashboard.i18n import t
out["label"] = t("login_title", "en")

from actions import responses
out["responses"] = len(responses._responses())

from bot.webserver import WEB_ROOT
out["web"] = sorted(p.name for p in WEB_ROOT.glob("*.html"))

from db import migrate
from db.session import dispose_engine
url = "sqlite:///" + str(Path(sys.argv[3]) / "installed.db")
migrate.upgrade(url)
import sqlalchemy as sa
engine = sa.create_engine(url)
out["tables"] = sorted(sa.inspect(engine).get_table_names())
engine.dispose()
dispose_engine(url)
print("PROBE " + json.dumps(out))
"""


def run(command, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif path.exists():
            shutil.copy2(path, source / name, follow_symlinks=False)
    dist = tmp_path_factory.mktemp("dist")
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                 "-w", str(dist), str(source)])
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheels = list(dist.glob("pcn_desk-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_the_wheel_holds_the_code_and_the_run_time_data_but_not_the_tests(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("core/settings.py", "bot/nlu/linear_intent_classifier.py", "db/alembic.ini",
                     "db/migrations/env.py", "db/migrations/script.py.mako",
                     "db/migrations/versions/0001_initial_schema.py", "dashboard/labels.yml",
                     "dashboard/app_pages/bilan.py", "content/vocabularies.yml", "content/answers/a.yml",
                     "domain/domain.yml", "domain/generated/questions.yml", "web/index.html",
                     "web/en/index.html", "web/static/pcn-chat.js"):
        assert expected in names, expected
    assert not [n for n in names if n.startswith(("tests/", "bench/", "nlu_data/", "scripts/"))]
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = [line.replace(" ", "") for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
                if line.startswith("Requires-Dist:")]
    # runtime requirements from requirements.txt; test tools only behind the "dev" extra
    assert any(line.startswith("Requires-Dist:rasa==3.6.21") for line in requires), requires
    assert all("extra==" in line for line in requires if "pytest" in line or "selenium" in line), requires


def test_installed_wheel_imports_and_finds_its_data_outside_the_repository(wheel, tmp_path):
    target = tmp_path / "target"
    installed = run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--quiet",
                     "--target", str(target), str(wheel)])
    assert installed.returncode == 0, installed.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCN_")}
    env["PYTHONPATH"] = str(target)  # the repository is NOT on the path: cwd is a temp folder
    probe = run([sys.executable, "-c", PROBE, str(target), json.dumps(CODE_PACKAGES), str(tmp_path)],
                cwd=tmp_path, env=env)
    assert probe.returncode == 0, probe.stderr[-4000:]
    out = json.loads(probe.stdout.split("PROBE ", 1)[1])
    assert out["outside"] == []
    assert Path(out["repo_root"]) == target.resolve()
    assert out["answers"] >= 40 and out["countries"] >= 30
    assert out["statuses"] == ["new", "open", "resolved", "waiting"]
    assert out["label"] == "Sign in"  # dashboard/labels.yml was found
    assert out["responses"] >= 20  # domain/domain.yml was found
    assert "index.html" in out["web"]
    assert {"enquiries", "tickets", "desk_users", "alembic_version"} <= set(out["tables"])


def test_every_code_package_of_the_repository_is_declared():
    """A new package (e.g. mail/) must be listed in pyproject.toml, or the wheel ships without it."""
    import tomli

    declared = set(tomli.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(REPO_ROOT).parts) for init in REPO_ROOT.rglob("__init__.py")
             if init.parent.relative_to(REPO_ROOT).parts[0] not in ("tests", "bench", ".venv", "build")}
    assert found <= declared, sorted(found - declared)
    for name in CODE_PACKAGES:
        assert name in declared
