"""Login, roles and page guards of the dashboard.

Roles: ``agent`` works tickets; ``manager`` reads the bilan and the tickets
(read-only); ``admin`` manages the accounts and reads the rest. Passwords are
argon2 hashes (``db/repositories/users.py``). There is no default password:
demo accounts exist only when ``PCN_DEMO=1`` (see dashboard/README.md).
"""
from __future__ import annotations

from typing import Optional

import streamlit as st

from core import settings
from dashboard.i18n import t

ROLE_PAGES = {
    "agent": ("tickets",),
    "manager": ("bilan", "tickets"),
    "admin": ("admin", "bilan", "tickets"),
}


def demo_mode() -> bool:
    return settings.flag("PCN_DEMO")


def lang() -> str:
    return st.session_state.get("lang", "fr")


def current_user() -> Optional[dict]:
    return st.session_state.get("user")


def login(username: str, password: str) -> Optional[dict]:
    from db.repositories import users

    user = users.authenticate(username, password)
    if user is None:
        return None
    data = {"id": user.id, "username": user.username, "name": user.display_name, "role": user.role}
    st.session_state["user"] = data
    return data


def logout() -> None:
    for key in list(st.session_state.keys()):
        if key != "lang":
            del st.session_state[key]


def login_form() -> None:
    lg = lang()
    st.title(t("app_title", lg))
    st.subheader(t("login_title", lg))
    if demo_mode():
        st.info(t("demo_mode", lg))
    with st.form("login"):
        username = st.text_input(t("username", lg), key="login_username")
        password = st.text_input(t("password", lg), type="password", key="login_password")
        submitted = st.form_submit_button(t("login_button", lg))
    if submitted:
        if login(username, password):
            st.rerun()
        else:
            st.error(t("login_failed", lg))


def require_role(*roles: str) -> dict:
    """Stop the page unless the signed-in user has one of ``roles``."""
    user = current_user()
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
