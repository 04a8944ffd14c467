"""Every setting of the desk, declared once: name, default and meaning.

Values are read from the environment on each call (tests and the launcher
change them at run time). The README's configuration table is checked
against ``SETTINGS`` by a test, so a new variable is declared here first.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
MODELS_DIR = REPO_ROOT / "models"
MODEL_NAME = "pcn"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Optional[str]
    meaning: str
    documented: bool = True  # False: internal (tests, benchmarks), kept out of the README table


_DECLARED = (
    Setting("PCN_DATABASE_URL", None,
            "SQLAlchemy URL of the enquiry log, tickets and Rasa's tracker store; default `sqlite:///<repo>/data/pcn.db`"),
    Setting("PCN_SPOOL_DIR", None, "where tickets wait while the database is down; default `<repo>/data/spool`"),
    Setting("PCN_CONTENT_DIR", None, "folder of the staff-edited content; default `<repo>/content`"),
    Setting("PCN_REDIS_HOST", None, "Redis host of the lock store (needed for several Rasa workers or servers)"),
    Setting("PCN_REDIS_PORT", "6379", "Redis port of the lock store"),
    Setting("PCN_RASA_WORKERS", "1", "Rasa server worker processes; more than 1 needs `PCN_REDIS_HOST`"),
    Setting("PCN_RASA_PORT", "5005", "port of the Rasa server (REST channel)"),
    Setting("PCN_ACTIONS_PORT", "5055", "port of the action server"),
    Setting("PCN_WEB_PORT", "8080", "port of the demo web page"),
    Setting("PCN_DASHBOARD_PORT", "8501", "port of the agent console and bilan (Streamlit)"),
    Setting("PCN_RASA_HOST", "127.0.0.1", "address the Rasa server listens on (`0.0.0.0`: every interface)"),
    Setting("PCN_ACTIONS_HOST", "127.0.0.1", "address the action server listens on; only Rasa calls it"),
    Setting("PCN_WEB_HOST", "127.0.0.1", "address the demo web server listens on"),
    Setting("PCN_DASHBOARD_HOST", "127.0.0.1", "address the agent console (Streamlit) listens on"),
    Setting("PCN_ACTIONS_SECRET", None,
            "shared secret Rasa sends to the action server (header `X-PCN-Actions-Secret`); "
            "default: a new random one at each `make run`. Required by the action server"),
    Setting("PCN_TRUSTED_PROXY_HEADER", None,
            "header holding the client address set by your reverse proxy (e.g. `X-Forwarded-For`); "
            "unset: the socket peer is the client and such headers are ignored"),
    Setting("PCN_SESSION_SECRET", None,
            "key signing the console's login cookie; default: a random key per console process "
            "(a restart logs everyone out)"),
    Setting("PCN_SESSION_HOURS", "8", "the console's login (cookie) expires after this many idle hours"),
    Setting("PCN_LOGIN_MAX_FAILURES", "5", "failed logins in a row that lock a console account"),
    Setting("PCN_LOGIN_LOCKOUT_MINUTES", "15", "how long a locked console account stays locked"),
    Setting("PCN_LOGIN_MAX_FAILURES_PER_CLIENT", "20",
            "failed logins from one client address in 15 minutes before it is refused"),
    Setting("PCN_SPOOL_FLUSH_SECONDS", "30",
            "the action server retries spooled tickets every this many seconds"),
    Setting("PCN_ACTION_ENDPOINT", None,
            "URL Rasa calls for custom actions; default `http://127.0.0.1:<PCN_ACTIONS_PORT>/webhook`"),
    Setting("PCN_PUBLIC_RASA_URL", None,
            "URL of the REST channel as the browser sees it (behind a reverse proxy); default: same host, port `PCN_RASA_PORT`"),
    Setting("PCN_RASA_TOKEN", None, "enables Rasa's HTTP API (`/conversations/...`) protected by this token"),
    Setting("PCN_CORS_ORIGINS", None,
            "origins allowed to call the REST channel from a browser, separated by spaces or commas; default: the demo page"),
    Setting("PCN_SMTP_HOST", None, "SMTP server for e-mail replies from the console"),
    Setting("PCN_SMTP_PORT", None, "SMTP port (default 25, or 587 with STARTTLS)"),
    Setting("PCN_SMTP_USER", None, "SMTP login"),
    Setting("PCN_SMTP_PASSWORD", None, "SMTP password"),
    Setting("PCN_SMTP_FROM", "pcn@cleiss.fr", "sender address of e-mails"),
    Setting("PCN_SMTP_STARTTLS", None, "`1` to use STARTTLS"),
    Setting("PCN_SMTP_TIMEOUT", "10", "SMTP timeout in seconds"),
    Setting("PCN_DEMO", None, "`1`: demo data and demo accounts"),
    Setting("PCN_CONFIG", None, "Rasa endpoints file chosen by the launcher", documented=False),
    Setting("PCN_NO_WARMUP", None, "`1`: the action server does not warm its models up at start", documented=False),
    Setting("PCN_ENQUIRY_LOG", "1", "`0`: the enquiry log is off (side-by-side benchmark only)", documented=False),
)
SETTINGS: Dict[str, Setting] = {setting.name: setting for setting in _DECLARED}


def get(name: str, environ: Optional[Dict[str, str]] = None) -> Optional[str]:
    """The value of a declared setting (blank counts as unset), else its default."""
    setting = SETTINGS[name]  # KeyError: declare the setting above first
    value = (environ if environ is not None else os.environ).get(name, "").strip()
    return value or setting.default


def flag(name: str, environ: Optional[Dict[str, str]] = None) -> bool:
    return (get(name, environ) or "").lower() in ("1", "true", "yes", "on")


def integer(name: str, environ: Optional[Dict[str, str]] = None) -> int:
    """A declared setting that must be a whole number (a clear error otherwise)."""
    raw = get(name, environ)
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None


def content_dir() -> Path:
    return Path(get("PCN_CONTENT_DIR") or REPO_ROOT / "content")


def database_url(environ: Optional[Dict[str, str]] = None) -> str:
    """The configured database URL (``PCN_DATABASE_URL``, else the SQLite file in data/)."""
    url = get("PCN_DATABASE_URL", environ)
    if not url:
        return f"sqlite:///{DATA_DIR / 'pcn.db'}"
    # Heroku-style "postgres://" is not accepted by SQLAlchemy 1.4+.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    return url


def spool_dir() -> Path:
    raw = get("PCN_SPOOL_DIR")
    return Path(raw).expanduser() if raw else DATA_DIR / "spool"


def environment() -> Dict[str, str]:
    """os.environ completed with the defaults, as the desk's child processes see it."""
    env = dict(os.environ)
    for setting in _DECLARED:
        if setting.default is not None and not env.get(setting.name, "").strip():
            env[setting.name] = setting.default
    env.setdefault("PCN_DATABASE_URL", database_url(env))
    env.setdefault("PCN_ACTION_ENDPOINT", f"http://127.0.0.1:{env['PCN_ACTIONS_PORT']}/webhook")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env
