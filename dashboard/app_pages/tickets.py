"""Agent console: queue with filters and counts, ticket view (one URL per ticket: ?ticket=PCN-…),
replies through the outbox, canned replies, notes, attachments, audit.

Everything the requester wrote (question, transcript, mails, file names) is shown with
``ui.plain`` (st.text): never Markdown, never HTML.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from core.content import LANGUAGES
from core.smtp import SmtpSettings, send
from dashboard import auth, readable, ui
from dashboard.countries import country_options
from dashboard.i18n import codes, label, question_label, t, ui_labels
from db.repositories import desk, templates

user = auth.require_role("agent", "manager", "admin")
lg = auth.lang()
can_work = desk.can_work(user["role"])

AGES = {"age_any": None, "age_1d": 24, "age_3d": 72, "age_7d": 168}
PH = ui.placeholder(lg)


_PER_TICKET = ("viewed_ticket", "reply_subject", "reply_body", "reply_template", "confirm_undelivered")


def _forget_ticket() -> None:
    """What belongs to the ticket on screen (a half-written reply must not follow the agent to another one)."""
    for key in _PER_TICKET:
        st.session_state.pop(key, None)


def _open(ticket_id: int, reference: str | None = None) -> None:
    if st.session_state.get("ticket_id") != ticket_id:
        _forget_ticket()
    st.session_state["ticket_id"] = ticket_id
    st.session_state.pop("viewed_ticket", None)
    if reference:
        st.query_params["ticket"] = reference  # the ticket's own URL


def _close() -> None:
    st.session_state.pop("ticket_id", None)
    _forget_ticket()
    st.query_params.pop("ticket", None)


def _from_url() -> None:
    """?ticket=PCN-2026-000123 opens that ticket."""
    reference = (st.query_params.get("ticket") or "").strip().upper()
    if not reference:
        return
    ticket_id = desk.get_ticket_by_reference(reference)
    if ticket_id is None:
        st.error(t("ticket_not_found", lg, reference=reference))
        st.query_params.pop("ticket", None)
    elif st.session_state.get("ticket_id") != ticket_id:
        _open(ticket_id)


def _flash(slot: str) -> None:
    flash = st.session_state.pop(slot, None)
    if flash:
        (st.success if flash[0] == "ok" else st.error)(flash[1])


def queue() -> None:
    st.title(t("queue", lg))
    if not can_work:
        st.info(t("read_only", lg))
    c1, c2, c3, c4, c5 = st.columns(5)
    statuses = c1.multiselect(t("filter_status", lg), codes("ticket_statuses"), default=[s for s in codes("ticket_statuses") if s != "resolved"],
                              format_func=lambda c: label("ticket_statuses", c, lg), key="f_status", placeholder=PH)
    categories = c2.multiselect(t("filter_category", lg), codes("categories") + [""], placeholder=PH,
                                format_func=lambda c: label("categories", c or None, lg), key="f_category")
    channels = c3.multiselect(t("filter_channel", lg), codes("channels"), key="f_channel", placeholder=PH,
                              format_func=lambda c: label("channels", c, lg))
    languages = c4.multiselect(t("filter_language", lg), list(ui_labels()["languages"]), key="f_language",
                               placeholder=PH, format_func=lambda c: ui.language_name(c, lg))
    origins = c5.multiselect(t("filter_origin", lg), codes("origin_groups"), placeholder=PH,
                             format_func=lambda c: label("origin_groups", c, lg), key="f_origin")
    c6, c7, c8 = st.columns([1, 1, 2])
    age = c6.selectbox(t("filter_age", lg), list(AGES), format_func=lambda k: t(k, lg), key="f_age", placeholder=PH)
    who = c7.selectbox(t("filter_assignee", lg), ["all", "mine", "none"], key="f_assignee", placeholder=PH,
                       format_func=lambda k: t({"all": "assignee_any", "mine": "assignee_me", "none": "assignee_none"}[k], lg))
    text = c8.text_input(t("search", lg), key="f_text")

    if text.strip():
        direct = desk.get_ticket_by_reference(text.strip().upper())
        if direct:
            _open(direct, text.strip().upper())
            st.rerun()

    f = desk.QueueFilter(statuses=statuses, categories=categories, languages=languages, origin_groups=origins,
                         channels=channels, min_age_hours=AGES[age], text=text,
                         assignee={"all": None, "mine": user["id"], "none": "none"}[who])
    counts = desk.status_counts(f)
    cols = st.columns(len(counts))
    for col, (status, n) in zip(cols, counts.items()):
        col.metric(label("ticket_statuses", status, lg), n)

    rows = desk.list_tickets(f)
    if not rows:
        st.info(t("no_ticket", lg))
        return
    now = dt.datetime.now(dt.timezone.utc)
    df = pd.DataFrame([{
        t("col_reference", lg): r["reference"],
        t("col_status", lg): label("ticket_statuses", r["status"], lg),
        t("col_question", lg): (r["question_text"] or "")[:120],
        t("col_channel", lg): label("channels", r["channel"], lg),
        t("col_assignee", lg): r["assignee_name"] or "—",
        t("col_age", lg): round((now - r["created_at"]).total_seconds() / 3600, 1),
        t("col_category", lg): label("categories", r["category"], lg),
        t("col_language", lg): r["language"] or "—",
        t("col_origin", lg): label("origin_groups", r["origin_group"], lg),
        t("col_created", lg): ui.fmt_dt(r["created_at"]),
    } for r in rows])
    st.caption(t("queue_hint", lg))
    event = st.dataframe(df, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                         key="queue_table")
    selected = (event.selection.rows if event is not None and hasattr(event, "selection") else []) or []
    if selected:
        row = rows[selected[0]]
        _open(row["id"], row["reference"])
        st.rerun()
    by_ref = {r["reference"]: r["id"] for r in rows}
    c1, c2 = st.columns([3, 1])
    c1.selectbox(t("open_ticket", lg), list(by_ref), key="open_ref", placeholder=PH)
    c2.button(t("open_ticket", lg), key="open_btn",
              on_click=lambda: _open(by_ref[st.session_state["open_ref"]], st.session_state["open_ref"]))


def _transcript(tk: dict) -> None:
    turns = tk["transcript"] or []
    if not turns:
        return
    st.subheader(t("transcript", lg))
    for turn in turns:
        sender = turn.get("sender", "user")
        text = turn.get("text", "")
        text = readable.payload_text(text, lg) or text  # a clicked button, in words
        with st.chat_message("user" if sender == "user" else "assistant"):
            st.caption(f"{t('sender_user' if sender == 'user' else 'sender_bot', lg)} · {ui.fmt_dt(turn.get('at'))}")
            ui.plain(text)


def _messages(tk: dict) -> None:
    st.subheader(t("messages", lg))
    files = {}
    for a in tk["attachments"]:
        files.setdefault(a["message_id"], []).append(a)
    for m in tk["messages"]:
        kind = t(f"kind_{m['kind']}", lg)
        status = f" · {t('email_status_' + m['email_status'], lg)}" if m["email_status"] else ""
        with st.container(border=True):
            st.caption(f"{ui.fmt_dt(m['created_at'])} · {m['author'] or t('sender_user', lg)} · {kind}{status}")
            for flag, value in (m["flags"] or {}).items():
                names = ", ".join(value) if isinstance(value, list) else ""
                st.warning(t(f"flag_{flag}", lg, names=names) if f"flag_{flag}" in ui_labels() else flag)
            if m["subject"]:
                ui.plain(m["subject"])
            ui.plain(m["body"])
            if m["email_status"] in ("pending", "failed") and m["last_error"]:
                st.caption(m["last_error"])
            if can_work and m["outbox_id"] and m["email_status"] in ("pending", "failed"):
                if st.button(t("retry_send", lg), key=f"retry_{m['id']}"):
                    res = desk.retry_reply(m["outbox_id"], user["id"], send)
                    st.session_state["reply_flash"] = (("ok", t("sent_ok", lg, to=tk["contact_email"])) if res["ok"]
                                                       else ("err", t("sent_queued", lg, error=res["error"])))
                    st.rerun()
            _downloads(files.get(m["id"], []))
    _downloads(files.get(None, []))


def _downloads(items: list[dict]) -> None:
    """Attachments as downloads only (octet-stream): the browser never renders them."""
    if not items:
        return
    st.caption(t("attachments", lg))
    for a in items:
        st.download_button(t("download", lg, name=a["filename"], size=ui.fmt_size(a["size"])),
                           data=lambda a=a: (desk.get_attachment(a["id"], user["id"]) or {}).get("data", b""),
                           file_name=a["filename"], mime="application/octet-stream", key=f"att_{a['id']}",
                           on_click="ignore")


def _metadata(tk: dict) -> None:
    st.subheader(t("metadata", lg))
    ack = tk["acks"][-1]["status"] if tk["acks"] else None
    meta = [
        (t("col_status", lg), label("ticket_statuses", tk["status"], lg)),
        (t("channel", lg), label("channels", tk["channel"], lg)),
        (t("col_created", lg), ui.fmt_dt(tk["created_at"])),
        (t("col_language", lg), ui.language_name(tk["language"], lg)),
        (t("category", lg), label("categories", tk["category"], lg)),
        (t("question_type", lg), question_label(tk["question_code"], lg)),
        (t("profile", lg), label("profiles", tk["profile"], lg)),
        (t("origin_country", lg), (tk["origin_country"] or "—") + " · " + label("origin_groups", tk["origin_group"], lg)),
        (t("treatment_country", lg), tk["treatment_country"] or "—"),
        (t("contact_email", lg), tk["contact_email"] or "—"),
        (t("consent_at", lg), ui.fmt_dt(tk["consent_at"])),
        (t("assignee", lg), tk["assignee_name"] or t("nobody", lg)),
        (t("first_response_at", lg), ui.fmt_dt(tk["first_response_at"])),
        (t("resolved_at", lg), ui.fmt_dt(tk["resolved_at"])),
        (t("ack_status", lg), t(f"email_status_{ack}", lg) if ack else t("ack_none", lg)),
    ]
    st.dataframe(pd.DataFrame(meta, columns=[t("field", lg), t("value", lg)]), hide_index=True, width="stretch")


def _audit(tk: dict) -> None:
    rows = [{t("audit_at", lg): ui.fmt_dt(a["at"]), t("audit_user", lg): a["user"] or t("system", lg),
             t("audit_action", lg): readable.audit_action(a["action"], lg),
             t("audit_detail", lg): readable.audit_detail(a["action"], a["detail"], lg)} for a in tk["audit"]]
    with st.expander(t("audit", lg)):
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def ticket_view(ticket_id: int) -> None:
    first_view = st.session_state.get("viewed_ticket") != ticket_id
    tk = desk.get_ticket(ticket_id, user["id"], record_view=first_view)
    st.session_state["viewed_ticket"] = ticket_id
    st.button("← " + t("back_to_queue", lg), key="back", on_click=_close)
    if tk is None:
        st.error(t("no_ticket", lg))
        return
    st.title(f"{t('ticket', lg)} {tk['reference']}")
    st.caption(t("ticket_link", lg, reference=tk["reference"]))
    if st.query_params.get("ticket") != tk["reference"]:
        st.query_params["ticket"] = tk["reference"]
    if not can_work:
        st.info(t("read_only", lg))

    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("question", lg))
        ui.plain(tk["question_text"] or "—")
        _transcript(tk)
        _messages(tk)
    with right:
        _metadata(tk)
        if can_work:
            _actions(tk)
    if can_work:
        _reply_and_note(tk)
    _audit(tk)


def _run(fn, *args, slot: str = "action_flash", ok_text=None, **kwargs) -> None:
    try:
        fn(*args, **kwargs)
        st.session_state[slot] = ("ok", ok_text or t("saved", lg))
    except (desk.DeskError, desk.DeskPermissionError) as exc:
        st.session_state[slot] = ("err", ui.desk_error(exc, lg))
    st.rerun()


def _actions(tk: dict) -> None:
    _flash("action_flash")
    if tk["assignee_id"] != user["id"] and st.button(t("claim", lg), key="claim"):
        _run(desk.claim, tk["id"], user["id"])
    agents = desk.agents()
    ids = [a for a, _ in agents]
    names = dict(agents)
    c1, c2 = st.columns([3, 1])
    target = c1.selectbox(t("assign_to", lg), ids, format_func=lambda i: names[i], key="assign_to", placeholder=PH,
                          index=ids.index(tk["assignee_id"]) if tk["assignee_id"] in ids else 0)
    if c2.button(t("assign", lg), key="assign_btn"):
        _run(desk.assign, tk["id"], target, user["id"])
    nxt = sorted(desk.TRANSITIONS[tk["status"]], key=desk.STATUSES.index)
    c1, c2 = st.columns([3, 1])
    status = c1.selectbox(t("status_change", lg), nxt, format_func=lambda c: label("ticket_statuses", c, lg), key="status_to",
                          placeholder=PH)
    replies = [m for m in tk["messages"] if m["kind"] == "reply"]
    undelivered = bool(tk["contact_email"]) and (not replies or replies[-1]["email_status"] != "sent")
    confirm = False
    if status == "resolved" and undelivered:  # the same rule as desk.undelivered, asked before the click
        confirm = st.checkbox(t("confirm_resolve", lg), key="confirm_undelivered")
    if c2.button(t("reopen", lg) if tk["status"] == "resolved" else t("apply", lg), key="status_btn"):
        _run(desk.set_status, tk["id"], status, user["id"], confirm_undelivered=confirm)

    st.subheader(t("fields", lg))
    cats, profs = codes("categories"), codes("profiles")
    countries = country_options(lg)
    iso = [c for c, _ in countries]
    cnames = dict(countries)
    with st.form("fields"):
        cat = st.selectbox(t("category", lg), cats, format_func=lambda c: label("categories", c, lg), placeholder=PH,
                           index=cats.index(tk["category"]) if tk["category"] in cats else None, key="fld_category")
        prof = st.selectbox(t("profile", lg), profs, format_func=lambda c: label("profiles", c, lg), placeholder=PH,
                            index=profs.index(tk["profile"]) if tk["profile"] in profs else None, key="fld_profile")
        ctry = st.selectbox(t("origin_country", lg), iso, format_func=lambda c: f"{cnames.get(c, c)} ({c})",
                            placeholder=PH, key="fld_country",
                            index=iso.index(tk["origin_country"]) if tk["origin_country"] in iso else None)
        treat = st.selectbox(t("treatment_country", lg), iso, format_func=lambda c: f"{cnames.get(c, c)} ({c})",
                             placeholder=PH, key="fld_treatment",
                             index=iso.index(tk["treatment_country"]) if tk["treatment_country"] in iso else None)
        if st.form_submit_button(t("save", lg)):
            _run(desk.update_fields, tk["id"], user["id"], category=cat, profile=prof, origin_country=ctry,
                 treatment_country=treat)
    missing = desk.missing_for_resolution(tk)
    if missing:
        st.caption("⚠ " + t("err_missing_fields", lg, fields=", ".join(t(f, lg) for f in missing)))
    if tk["enquiry_id"] and st.button(t("not_a_request", lg), key="not_a_request"):
        _run(desk.mark_not_a_request, tk["id"], user["id"], ok_text=t("not_a_request_done", lg))


def _use_template(tk: dict, req_lang: str) -> None:
    code = st.session_state.get("reply_template")
    if code:
        subject, body = templates.render(code, req_lang, tk["reference"])
        st.session_state["reply_subject"], st.session_state["reply_body"] = subject, body


def _reply_and_note(tk: dict) -> None:
    st.subheader(t("reply", lg))
    if not tk["contact_email"]:
        st.warning(t("no_email", lg))
    else:
        smtp = SmtpSettings.from_env()
        if smtp.configured:
            st.info(t("smtp_ok", lg, server=smtp.describe()))
        else:
            st.warning(t("smtp_missing", lg))
        req_lang = tk["language"] if tk["language"] in LANGUAGES else "fr"
        offered = templates.for_ticket(tk["question_code"], req_lang)
        st.selectbox(t("template", lg), offered, index=None, placeholder=t("template_none", lg), key="reply_template",
                     format_func=lambda c: t("template_generic", lg) if c == templates.GENERIC else question_label(c, lg),
                     on_change=_use_template, args=(tk, req_lang))
        st.session_state.setdefault("reply_subject", t("reply_subject_default", req_lang, reference=tk["reference"]))
        with st.form("reply"):
            subject = st.text_input(t("reply_subject", lg), key="reply_subject")
            body = st.text_area(t("reply_body", lg), key="reply_body", height=240)
            sent = st.form_submit_button(t("send", lg))
        if sent:
            try:
                res = desk.send_reply(tk["id"], user["id"], subject, body, send)
                st.session_state["reply_flash"] = (("ok", t("sent_ok", lg, to=res["to"])) if res["ok"]
                                                   else ("err", t("sent_queued", lg, error=res["error"])))
                for key in ("reply_body", "reply_subject", "reply_template"):
                    st.session_state.pop(key, None)
            except (desk.DeskError, desk.DeskPermissionError) as exc:
                st.session_state["reply_flash"] = ("err", ui.desk_error(exc, lg))
            st.rerun()
        _flash("reply_flash")  # the result stands next to the form, where the agent is
    with st.form("note", clear_on_submit=True):
        note = st.text_area(t("note", lg), key="note_body")
        if st.form_submit_button(t("add_note", lg)):
            _run(desk.add_note, tk["id"], user["id"], note, slot="note_flash")
    _flash("note_flash")


_from_url()
if st.session_state.get("ticket_id"):
    ticket_view(st.session_state["ticket_id"])
else:
    queue()
