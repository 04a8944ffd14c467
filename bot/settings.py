"""Environment defaults for the desk's processes (embedded defaults: SQLite, localhost)."""
from __future__ import annotations

import os
from typing import Dict

from bot.content import REPO_ROOT

DATA_DIR = REPO_ROOT / "data"
MODELS_DIR = REPO_ROOT / "models"
MODEL_NAME = "pcn"

DEFAULTS: Dict[str, str] = {
    "PCN_DATABASE_URL": f"sqlite:///{DATA_DIR / 'pcn.db'}",
    "PCN_RASA_PORT": "5005",
    "PCN_ACTIONS_PORT": "5055",
    "PCN_WEB_PORT": "8080",
    "PCN_DASHBOARD_PORT": "8501",
    "RASA_TELEMETRY_ENABLED": "false",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}


def environment() -> Dict[str, str]:
    """os.environ completed with the defaults, as the child processes see it."""
    env = {**DEFAULTS, **os.environ}
    env.setdefault("PCN_ACTION_ENDPOINT", f"http://127.0.0.1:{env['PCN_ACTIONS_PORT']}/webhook")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    DATA_DIR.mkdir(exist_ok=True)
    return env
