"""Administration of desk accounts (admin role only)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, readable, ui
from dashboard.i18n import label, t
from db.repositories import users

user = auth.require_role("admin")
lg = auth.lang()
PH = ui.placeholder(lg)

st.title(t("users_title", lg))
flash = st.session_state.pop("admin_flash", None)
if flash:
    (st.success if flash[0] == "ok" else st.error)(flash[1])

rows = users.list_users()
st.dataframe(pd.DataFrame([{t("username", lg): u.username, t("display_name", lg): u.display_name,
                            t("email", lg): u.email or "", t("role", lg): label("roles", u.role, lg),
                            t("active", lg): t("value_yes" if u.active else "value_no", lg)}
                           for u in rows]), hide_index=True, width="stretch")

st.subheader(t("add_user", lg))
with st.form("add_user", clear_on_submit=True):
    c1, c2 = st.columns(2)
    username = c1.text_input(t("username", lg), key="new_username")
    display = c2.text_input(t("display_name", lg), key="new_display")
    email = c1.text_input(t("email", lg), key="new_email")
    role = c2.selectbox(t("role", lg), users.ROLES, key="new_role", placeholder=PH,
                        format_func=lambda r: label("roles", r, lg))
    password = st.text_input(t("password", lg), type="password", key="new_password")
    if st.form_submit_button(t("create", lg)):
        try:
            users.create_user(username, password, role, display, email or None)
            st.session_state["admin_flash"] = ("ok", t("created", lg))
        except users.UserError as exc:
            st.session_state["admin_flash"] = ("err", ui.desk_error(exc, lg))
        st.rerun()

names = [u.username for u in rows]
if names:
    st.subheader(t("set_password", lg) + " / " + t("disable", lg))
    target = st.selectbox(t("username", lg), names, key="target_user", placeholder=PH)
    with st.form("set_pw", clear_on_submit=True):
        pw = st.text_input(t("password", lg), type="password", key="target_password")
        if st.form_submit_button(t("set_password", lg)):
            try:
                users.set_password(target, pw)
                st.session_state["admin_flash"] = ("ok", t("saved", lg))
            except users.UserError as exc:
                st.session_state["admin_flash"] = ("err", ui.desk_error(exc, lg))
            st.rerun()
    current = next(u for u in rows if u.username == target)
    if target != user["username"]:
        if st.button(t("disable", lg) if current.active else t("enable", lg), key="toggle_active"):
            users.set_active(target, not current.active)
            st.session_state["admin_flash"] = ("ok", t("saved", lg))
            st.rerun()


# ---------------------------------------------------------------- personal data (GDPR)
def _privacy_section() -> None:
    """Retention periods and runs; export and erasure of one requester (db/subjects.py)."""
    import json

    from db import retention, subjects

    st.divider()
    st.subheader(t("privacy_title", lg))
    policy = retention.RetentionPolicy.from_settings()
    last = retention.last_run()
    st.caption(t("privacy_policy", lg, conversation=policy.conversation_days, contact=policy.contact_days,
                 ticket=policy.ticket_days, question=policy.question_text_days,
                 last=last.strftime("%Y-%m-%d %H:%M UTC") if last else t("never", lg)))
    if st.button(t("privacy_run_retention", lg), key="privacy_run_retention"):
        counts = retention.run_retention(actor=f"console:{user['username']}")
        st.session_state["admin_flash"] = ("ok", t("privacy_retention_done", lg, tickets=len(counts["tickets_purged"]),
                                                   contacts=counts["contact_emails_deleted"],
                                                   events=counts["conversation_events_deleted"]))
        st.rerun()

    by = st.radio(t("privacy_by", lg), ["email", "reference"], horizontal=True, key="privacy_by",
                  format_func=lambda k: t(f"privacy_by_{k}", lg))
    query = st.text_input(t(f"privacy_by_{by}", lg), key="privacy_query").strip()
    if not query:
        return
    kwargs = {by: query}
    try:
        requester = subjects.find_requester(**kwargs)
    except subjects.SubjectError as exc:
        st.error(str(exc))
        return
    if not requester.found:
        st.info(t("privacy_nothing", lg))
        return
    st.write(t("privacy_found", lg, tickets=", ".join(requester.references),
               conversations=len(requester.conversation_ids), enquiries=len(requester.enquiry_ids)))
    if st.button(t("privacy_prepare_export", lg), key="privacy_prepare_export"):
        data = subjects.export_requester(**kwargs, actor=f"console:{user['username']}", user_id=user["id"])
        st.session_state["privacy_export"] = (query, json.dumps(data, ensure_ascii=False, indent=2))
    prepared = st.session_state.get("privacy_export")
    if prepared and prepared[0] == query:
        st.download_button(t("privacy_download", lg), prepared[1], file_name=f"pcn-donnees-{requester.subject}.json",
                           mime="application/json", key="privacy_download")
    confirm = st.checkbox(t("privacy_confirm", lg, tickets=", ".join(requester.references)), key="privacy_confirm")
    if st.button(t("privacy_erase", lg), key="privacy_erase", disabled=not confirm, type="primary"):
        result = subjects.erase_requester(**kwargs, actor=f"console:{user['username']}", user_id=user["id"])
        st.session_state.pop("privacy_export", None)
        st.session_state["admin_flash"] = ("ok", t("privacy_erased", lg, tickets=", ".join(result["tickets"]),
                                                   events=result["conversation_events"]))
        st.rerun()


def _privacy_audit() -> None:
    from db import subjects

    rows = subjects.recent_audit()
    if rows:
        with st.expander(t("privacy_audit", lg)):
            st.dataframe(pd.DataFrame([{
                t("audit_at", lg): ui.fmt_dt(r["at"]),
                t("audit_action", lg): readable.label_of("privacy_actions", r["action"], lg),
                t("privacy_actor", lg): r["actor"], t("privacy_subject", lg): r["subject"] or "—",
                t("audit_detail", lg): readable.mapping_text(r["detail"] or {}, lg)} for r in rows]),
                hide_index=True, width="stretch")


_privacy_section()
_privacy_audit()
