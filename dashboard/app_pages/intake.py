"""Recording a phone call, a letter or a walk-in for the bilan, in a few clicks; a ticket may be opened."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from core.content import load_answers
from core.smtp import valid_address
from dashboard import auth, ui
from dashboard.countries import country_options
from dashboard.i18n import codes, label, question_label, t, ui_labels
from db.repositories import intake
from db.repositories.tickets import TicketDraft, create_ticket

user = auth.require_role("agent")
lg = auth.lang()
PH = ui.placeholder(lg)

st.title(t("intake_title", lg))
st.caption(t("intake_help", lg))

flash = st.session_state.pop("intake_flash", None)
if flash:
    (st.success if flash[0] == "ok" else st.error)(flash[1])
created = st.session_state.get("intake_ticket")  # kept until used: the button must exist on the click's rerun
if created and st.button(t("open_created_ticket", lg, reference=created), key="open_created"):
    st.session_state.pop("intake_ticket", None)
    st.switch_page("app_pages/tickets.py", query_params={"ticket": created})

today = dt.datetime.now(dt.timezone.utc).date()
days = [today - dt.timedelta(days=k) for k in range(0, 61)]
types = sorted(load_answers(), key=lambda c: (c[0], int(c[1:]) if c[1:].isdigit() else 0))
countries = country_options(lg)
iso = [c for c, _ in countries]
cnames = dict(countries)
outcomes = ui_labels()["intake_outcomes"]

with st.form("intake", clear_on_submit=True):
    c1, c2, c3 = st.columns(3)
    channel = c1.radio(t("channel", lg), intake.AGENT_CHANNELS, format_func=lambda c: label("channels", c, lg),
                       horizontal=True, key="in_channel")
    received = c2.selectbox(t("received_on", lg), days, key="in_date", placeholder=PH, help=t("received_on_help", lg),
                            format_func=lambda d: f"{t('today', lg)} ({d.isoformat()})" if d == today else d.isoformat())
    language = c3.selectbox(t("language", lg), list(ui_labels()["languages"]), key="in_language", placeholder=PH,
                            format_func=lambda c: ui.language_name(c, lg))
    c1, c2 = st.columns(2)
    qtype = c1.selectbox(t("question_type", lg), types, index=None, placeholder=PH, key="in_type",
                         format_func=lambda c: question_label(c, lg))
    category = c2.selectbox(t("category", lg), codes("categories"), index=None, placeholder=PH, key="in_category",
                            format_func=lambda c: label("categories", c, lg))
    c1, c2, c3 = st.columns(3)
    profile = c1.selectbox(t("profile", lg), codes("profiles"), index=None, placeholder=PH, key="in_profile",
                           format_func=lambda c: label("profiles", c, lg))
    origin = c2.selectbox(t("origin_country", lg), iso, index=None, placeholder=PH, key="in_origin",
                          format_func=lambda c: f"{cnames.get(c, c)} ({c})")
    treatment = c3.selectbox(t("treatment_country", lg), iso, index=None, placeholder=PH, key="in_treatment",
                             format_func=lambda c: f"{cnames.get(c, c)} ({c})")
    outcome = st.radio(t("outcome", lg), list(outcomes), horizontal=True, key="in_outcome",
                       format_func=lambda c: outcomes[c][lg])
    st.warning(t("note_warning", lg))
    note = st.text_area(t("note_short", lg), max_chars=intake.NOTE_MAX_CHARS, key="in_note", height=90,
                        help=t("note_max_help", lg, max=intake.NOTE_MAX_CHARS))  # the counter is hidden in French
    email = st.text_input(t("contact_email_optional", lg), key="in_email")
    submitted = st.form_submit_button(t("record", lg), type="primary")

if submitted:
    email = (email or "").strip()
    try:
        if email and not valid_address(email):
            raise intake.IntakeError("bad_email")
        entry = intake.AgentEntry(channel=channel, received_on=received, language=language, question_code=qtype,
                                  category=category, profile=profile or "UNK", origin_country=origin,
                                  treatment_country=treatment, outcome=outcome, note=note or "")
        enquiry_id = intake.record_agent_entry(entry, user["id"])
        message = ("ok", t("recorded", lg))
        if outcome == "escalated":
            from core.privacy import redact

            ticket = create_ticket(TicketDraft(
                idempotency_key=f"agent:{enquiry_id}", enquiry_id=enquiry_id, channel=channel, source="agent",
                language=language, question_code=qtype, category=load_answers()[qtype].category if qtype else category,
                profile=profile or "UNK", origin_country=origin, treatment_country=treatment,
                question_text=redact(note) if note else None, contact_email=email or None,
                consent_at=dt.datetime.now(dt.timezone.utc) if email else None))
            message = ("ok", t("recorded_ticket", lg, reference=ticket.reference))
            st.session_state["intake_ticket"] = ticket.reference
        st.session_state["intake_flash"] = message
    except (intake.IntakeError, ValueError) as exc:
        st.session_state["intake_flash"] = ("err", ui.desk_error(exc, lg))
    st.rerun()
