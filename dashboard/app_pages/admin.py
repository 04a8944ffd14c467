"""Administration of desk accounts (admin role only)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth
from dashboard.i18n import t
from db.repositories import users

user = auth.require_role("admin")
lg = auth.lang()

st.title(t("users_title", lg))
flash = st.session_state.pop("admin_flash", None)
if flash:
    (st.success if flash[0] == "ok" else st.error)(flash[1])

rows = users.list_users()
st.dataframe(pd.DataFrame([{t("username", lg): u.username, t("display_name", lg): u.display_name,
                            t("email", lg): u.email or "", t("role", lg): u.role, t("active", lg): u.active}
                           for u in rows]), hide_index=True, width="stretch")

st.subheader(t("add_user", lg))
with st.form("add_user", clear_on_submit=True):
    c1, c2 = st.columns(2)
    username = c1.text_input(t("username", lg), key="new_username")
    display = c2.text_input(t("display_name", lg), key="new_display")
    email = c1.text_input(t("email", lg), key="new_email")
    role = c2.selectbox(t("role", lg), users.ROLES, key="new_role")
    password = st.text_input(t("password", lg), type="password", key="new_password")
    if st.form_submit_button(t("create", lg)):
        try:
            users.create_user(username, password, role, display, email or None)
            st.session_state["admin_flash"] = ("ok", t("created", lg))
        except users.UserError as exc:
            st.session_state["admin_flash"] = ("err", str(exc))
        st.rerun()

names = [u.username for u in rows]
if names:
    st.subheader(t("set_password", lg) + " / " + t("disable", lg))
    target = st.selectbox(t("username", lg), names, key="target_user")
    with st.form("set_pw", clear_on_submit=True):
        pw = st.text_input(t("password", lg), type="password", key="target_password")
        if st.form_submit_button(t("set_password", lg)):
            try:
                users.set_password(target, pw)
                st.session_state["admin_flash"] = ("ok", t("saved", lg))
            except users.UserError as exc:
                st.session_state["admin_flash"] = ("err", str(exc))
            st.rerun()
    current = next(u for u in rows if u.username == target)
    if target != user["username"]:
        if st.button(t("disable", lg) if current.active else t("enable", lg), key="toggle_active"):
            users.set_active(target, not current.active)
            st.session_state["admin_flash"] = ("ok", t("saved", lg))
            st.rerun()
