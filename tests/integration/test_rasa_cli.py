"""Rasa's own checks: data validation and the test stories against a real action server."""
from __future__ import annotations

import subprocess
import sys

import pytest

from core.settings import REPO_ROOT
from tests.servers import MODEL

pytestmark = pytest.mark.integration


def rasa(*args: str, env=None, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rasa", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_rasa_data_validate_is_clean(desk):
    result = rasa("data", "validate", "--data", "nlu_data", "--domain", "domain", "--config", "config.yml",
                  env=desk.env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "conflict" not in output.lower() or "No story structure conflicts found" in output
    # `--fail-on-warnings` still passes on unused intents (rasa validator.py): check them here.
    assert not [line for line in output.splitlines() if "is not used in any story or rule" in line
                and "intent" in line and not any(name in line for name in ("nlu_fallback",))]


def test_rasa_test_stories(desk, tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"action_endpoint:\n  url: {desk.actions_url}/webhook\n", encoding="utf-8")
    out = tmp_path / "results"
    result = rasa("test", "core", "--model", str(MODEL), "--stories", "tests/stories", "--endpoints", str(endpoints),
                  "--out", str(out), "--fail-on-prediction-errors", "--no-plot", env=desk.env)
    failed = (out / "failed_test_stories.yml").read_text() if (out / "failed_test_stories.yml").exists() else ""
    assert result.returncode == 0, failed[-4000:] + result.stdout[-2000:] + result.stderr[-2000:]
