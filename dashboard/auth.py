"""Login, roles and page guards of the dashboard.

Roles: ``agent`` works tickets; ``manager`` reads the bilan and the tickets
(read-only); ``admin`` manages the accounts and reads the rest. Passwords are
argon2 hashes (``db/repositories/users.py``). There is no default password:
demo accounts exist only when ``PCN_DEMO=1``, with random passwords printed
once in the terminal (see dashboard/README.md).

* **Throttling** (``db/repositories/logins.py``): a growing delay after each
  failure of an account, a lockout after ``PCN_LOGIN_MAX_FAILURES``, a limit
  per client address; every attempt, refusal and logout is audited.
* **Every run of every page re-checks the session** in the database
  (``refresh``): a disabled account, a new password or a logout elsewhere
  ends it at the next click, and a role change applies at once.
* **The login survives a reload**: a cookie holding the session id signed with
  itsdangerous (``PCN_SESSION_SECRET``; expiry ``PCN_SESSION_HOURS``). The
  signature keeps a forged id out; the server-side session (revoked at logout
  or when the account is disabled) decides. Streamlit cannot set a cookie from
  the server, so a zero-height component writes it in the browser
  (``SameSite=Strict``; ``Secure`` on https).
"""
from __future__ import annotations

import logging
import os
import secrets
from typing import Optional

import streamlit as st

from core import net, settings
from dashboard.i18n import t

logger = logging.getLogger(__name__)

ROLE_PAGES = {
    "agent": ("tickets",),
    "manager": ("bilan", "tickets"),
    "admin": ("admin", "bilan", "tickets"),
}
COOKIE = "pcn_desk_session"
_SALT = "pcn-desk-login"
_PROCESS_SECRET = secrets.token_urlsafe(32)  # when PCN_SESSION_SECRET is unset: valid until a restart


def demo_mode() -> bool:
    return os.environ.get("PCN_DEMO", "").strip().lower() in ("1", "true", "yes")


def lang() -> str:
    return st.session_state.get("lang", "fr")


def current_user() -> Optional[dict]:
    return st.session_state.get("user")


def client_id() -> str:
    """The client's address for the per-client throttle (a trusted proxy header only when configured)."""
    try:
        headers = {str(k): v for k, v in dict(st.context.headers).items() if isinstance(v, str)}
        peer = st.context.ip_address
    except Exception:  # noqa: BLE001 - no browser context (tests)
        headers, peer = {}, None
    # Streamlit gives None for a browser on this machine
    return net.client_address(peer if isinstance(peer, str) and peer else "127.0.0.1", headers)


# ------------------------------------------------------------ the signed cookie
def _serializer():
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(settings.get("PCN_SESSION_SECRET") or _PROCESS_SECRET, salt=_SALT)


def _max_age() -> int:
    return settings.integer("PCN_SESSION_HOURS") * 3600


def sign(sid: str) -> str:
    return _serializer().dumps(sid)


def unsign(token: Optional[str]) -> Optional[str]:
    from itsdangerous import BadSignature

    if not token:
        return None
    try:
        return str(_serializer().loads(token, max_age=_max_age()))
    except (BadSignature, ValueError, TypeError):
        return None


def _cookie_sid() -> Optional[str]:
    try:
        token = st.context.cookies.get(COOKIE)
        return unsign(token) if isinstance(token, str) else None
    except Exception:  # noqa: BLE001 - no browser context (tests)
        return None


def _write_cookie(value: str, max_age: int) -> None:
    from streamlit.components.v1 import html

    # the component's iframe shares the console's origin; the cookie is the page's (Path=/)
    html(
        "<script>(function(){var p=window.parent;"
        f"var c='{COOKIE}={value}; Path=/; Max-Age={max_age}; SameSite=Strict';"
        "if(p.location.protocol==='https:'){c+='; Secure';}p.document.cookie=c;})();</script>",
        height=0,
    )


def sync_cookie() -> None:
    """Writes (after a login) or clears (after a logout) the cookie in the browser, once."""
    token = st.session_state.pop("_set_cookie", None)
    if token:
        _write_cookie(token, _max_age())
    elif st.session_state.pop("_clear_cookie", False):
        _write_cookie("", 0)


# ------------------------------------------------------------ login, session, logout
def _remember(user, sid: str) -> dict:
    data = {"id": user.id, "username": user.username, "name": user.display_name, "role": user.role, "sid": sid}
    st.session_state["user"] = data
    return data


def login(username: str, password: str) -> tuple[Optional[dict], str]:
    """(the signed-in user, "") or (None, the key of the message to show)."""
    from db.repositories import logins, users

    client = client_id()
    throttle = logins.throttle(username, client)
    if not throttle.allowed:
        logins.record("locked" if throttle.reason == "locked" else "throttled", username, client)
        if throttle.reason == "locked":
            return None, t("login_locked", lang(), minutes=max(1, -(-throttle.retry_after // 60)))
        if throttle.reason == "client":
            return None, t("login_client_blocked", lang(), minutes=max(1, -(-throttle.retry_after // 60)))
        return None, t("login_wait", lang(), seconds=throttle.retry_after)
    user = users.authenticate(username, password)
    if user is None:
        logins.record("failed", username, client)
        return None, t("login_failed", lang())
    logins.record("ok", username, client, user.id)
    sid = logins.open_session(user.id)
    st.session_state["_set_cookie"] = sign(sid)
    return _remember(user, sid), ""


def refresh() -> Optional[dict]:
    """The signed-in user, re-read from the database (account active, role), or None.

    Without a user in this browser session, a valid login cookie signs the user in again.
    """
    from db.repositories import logins

    data = current_user()
    sid = data["sid"] if data else _cookie_sid()
    if not sid:
        return None
    user = logins.session_user(sid)
    if user is None:
        if data:
            _forget(ended=True)
        return None
    return _remember(user, sid)


def _forget(ended: bool = False) -> None:
    for key in list(st.session_state.keys()):
        if key != "lang":
            del st.session_state[key]
    st.session_state["_clear_cookie"] = True
    if ended:
        st.session_state["_session_ended"] = True


def logout() -> None:
    from db.repositories import logins

    user = current_user()
    if user:
        logins.revoke(user["sid"])
        logins.record("logout", user["username"], client_id(), user["id"])
    _forget()


def login_form() -> None:
    lg = lang()
    st.title(t("app_title", lg))
    st.subheader(t("login_title", lg))
    if st.session_state.pop("_session_ended", False):
        st.warning(t("session_ended", lg))
    if demo_mode():
        st.info(t("demo_mode", lg))
    with st.form("login"):
        username = st.text_input(t("username", lg), key="login_username")
        password = st.text_input(t("password", lg), type="password", key="login_password")
        submitted = st.form_submit_button(t("login_button", lg))
    if submitted:
        user, problem = login(username, password)
        if user:
            st.rerun()
        else:
            st.error(problem)


def require_role(*roles: str) -> dict:
    """Stop the page unless the signed-in user — checked again in the database — has one of ``roles``."""
    user = refresh()
    lg = lang()
    if user is None:
        st.error(t("login_failed", lg))
        st.stop()
    if user["role"] not in roles:
        st.error(t("forbidden", lg, roles=" / ".join(roles)))
        st.stop()
    return user


def allowed_pages(role: str) -> tuple[str, ...]:
    return ROLE_PAGES.get(role, ())

