"""Canned replies (FR/EN) per question type, the general reply and the acknowledgement: managers edit them."""
from __future__ import annotations

import streamlit as st

from dashboard import auth, ui
from dashboard.i18n import question_label, t
from db.repositories import templates

user = auth.require_role("manager", "admin")
lg = auth.lang()

st.title(t("templates_title", lg))
st.caption(t("templates_help", lg))
flash = st.session_state.pop("tpl_flash", None)
if flash:
    (st.success if flash[0] == "ok" else st.error)(flash[1])


def _name(code: str) -> str:
    if code == templates.ACK:
        return t("template_ack", lg)
    if code == templates.GENERIC:
        return t("template_generic", lg)
    return question_label(code, lg)


c1, c2 = st.columns([3, 1])
code = c1.selectbox(t("template", lg), templates.codes(), format_func=_name, key="tpl_code", placeholder=ui.placeholder(lg))
language = c2.radio(t("language", lg), templates.LANGUAGES, horizontal=True, key="tpl_lang",
                    format_func=lambda c: ui.language_name(c, lg))
current = templates.get(code, language)
st.caption(t("template_edited", lg) if current["edited"] else t("template_default", lg))
with st.form(f"tpl_{code}_{language}"):
    subject = st.text_input(t("template_subject", lg), value=current["subject"], key=f"tpl_subject_{code}_{language}")
    body = st.text_area(t("template_body", lg), value=current["body"], height=360, key=f"tpl_body_{code}_{language}")
    saved = st.form_submit_button(t("save", lg), type="primary")
if saved:
    try:
        templates.save(code, language, subject, body, user["id"])
        st.session_state["tpl_flash"] = ("ok", t("saved", lg))
    except templates.TemplateError as exc:
        st.session_state["tpl_flash"] = ("err", ui.desk_error(exc, lg))
    st.rerun()
if current["edited"] and st.button(t("template_reset", lg), key="tpl_reset"):
    templates.reset(code, language, user["id"])
    st.session_state["tpl_flash"] = ("ok", t("saved", lg))
    st.rerun()
