"""Agent console: queue with filters and counts, ticket view, replies, notes, audit."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from core.content import LANGUAGES
from core.language import DETECTED_LANGUAGES
from dashboard import auth
from dashboard.countries import country_options
from dashboard.i18n import codes, label, t
from db.repositories import desk

user = auth.require_role("agent", "manager", "admin")
lg = auth.lang()
can_work = desk.can_work(user["role"])

AGES = {"age_any": None, "age_1d": 24, "age_3d": 72, "age_7d": 168}


def _fmt_dt(v) -> str:
    return v.strftime("%Y-%m-%d %H:%M") + " UTC" if v else "—"


def _open(ticket_id: int) -> None:
    st.session_state["ticket_id"] = ticket_id
    st.session_state.pop("viewed_ticket", None)


def _close() -> None:
    st.session_state.pop("ticket_id", None)
    st.session_state.pop("viewed_ticket", None)


def queue() -> None:
    st.title(t("queue", lg))
    if not can_work:
        st.info(t("read_only", lg))
    c1, c2, c3, c4 = st.columns(4)
    statuses = c1.multiselect(t("filter_status", lg), codes("ticket_statuses"), default=[s for s in codes("ticket_statuses") if s != "resolved"],
                              format_func=lambda c: label("ticket_statuses", c, lg), key="f_status")
    categories = c2.multiselect(t("filter_category", lg), codes("categories") + [""],
                                format_func=lambda c: label("categories", c or None, lg), key="f_category")
    languages = c3.multiselect(t("filter_language", lg), list(DETECTED_LANGUAGES), key="f_language")
    origins = c4.multiselect(t("filter_origin", lg), codes("origin_groups"),
                             format_func=lambda c: label("origin_groups", c, lg), key="f_origin")
    c5, c6, c7 = st.columns([1, 1, 2])
    age = c5.selectbox(t("filter_age", lg), list(AGES), format_func=lambda k: t(k, lg), key="f_age")
    assignee_opts = ["all", "mine", "none"]
    who = c6.selectbox(t("filter_assignee", lg), assignee_opts, key="f_assignee",
                       format_func=lambda k: t({"all": "assignee_any", "mine": "assignee_me", "none": "assignee_none"}[k], lg))
    text = c7.text_input(t("search", lg), key="f_text")

    if text.strip():
        direct = desk.get_ticket_by_reference(text.strip().upper())
        if direct:
            _open(direct)
            st.rerun()

    f = desk.QueueFilter(statuses=statuses, categories=categories, languages=languages, origin_groups=origins,
                         min_age_hours=AGES[age], text=text,
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
        t("col_created", lg): _fmt_dt(r["created_at"]),
        t("col_age", lg): round((now - r["created_at"]).total_seconds() / 3600, 1),
        t("col_status", lg): label("ticket_statuses", r["status"], lg),
        t("col_category", lg): label("categories", r["category"], lg),
        t("col_language", lg): r["language"] or "—",
        t("col_origin", lg): label("origin_groups", r["origin_group"], lg),
        t("col_assignee", lg): r["assignee_name"] or "—",
        t("col_question", lg): (r["question_text"] or "")[:120],
    } for r in rows])
    st.dataframe(df, hide_index=True, width="stretch")
    by_ref = {r["reference"]: r["id"] for r in rows}
    c1, c2 = st.columns([3, 1])
    c1.selectbox(t("open_ticket", lg), list(by_ref), key="open_ref")
    c2.button(t("open_ticket", lg), key="open_btn",
              on_click=lambda: _open(by_ref[st.session_state["open_ref"]]))


def ticket_view(ticket_id: int) -> None:
    first_view = st.session_state.get("viewed_ticket") != ticket_id
    tk = desk.get_ticket(ticket_id, user["id"], record_view=first_view)
    st.session_state["viewed_ticket"] = ticket_id
    st.button("← " + t("back_to_queue", lg), key="back", on_click=_close)
    if tk is None:
        st.error(t("no_ticket", lg))
        return
    st.title(f"{t('ticket', lg)} {tk['reference']}")
    flash = st.session_state.pop("flash", None)
    if flash:
        (st.success if flash[0] == "ok" else st.error)(flash[1])
    if not can_work:
        st.info(t("read_only", lg))

    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("question", lg))
        st.write(tk["question_text"] or "—")
        st.subheader(t("transcript", lg))
        for turn in tk["transcript"] or []:
            sender = turn.get("sender", "user")
            with st.chat_message("user" if sender == "user" else "assistant"):
                st.write(turn.get("text", ""))
                if turn.get("at"):
                    st.caption(str(turn["at"]))
        st.subheader(t("messages", lg))
        for m in tk["messages"]:
            kind = t("note", lg) if m["kind"] == "note" else t("reply", lg)
            status = f" · {m['email_status']}" if m["email_status"] else ""
            with st.container(border=True):
                st.caption(f"{_fmt_dt(m['created_at'])} · {m['author']} · {kind}{status}")
                if m["subject"]:
                    st.markdown(f"**{m['subject']}**")
                st.text(m["body"])
    with right:
        st.subheader(t("metadata", lg))
        meta = {
            t("col_status", lg): label("ticket_statuses", tk["status"], lg),
            t("col_created", lg): _fmt_dt(tk["created_at"]),
            t("col_language", lg): tk["language"] or "—",
            t("category", lg): label("categories", tk["category"], lg),
            t("profile", lg): label("profiles", tk["profile"], lg),
            t("origin_country", lg): (tk["origin_country"] or "—") + " · " + label("origin_groups", tk["origin_group"], lg),
            "question_code": tk["question_code"] or "—",
            t("contact_email", lg): tk["contact_email"] or "—",
            t("consent_at", lg): _fmt_dt(tk["consent_at"]),
            t("assignee", lg): tk["assignee_name"] or t("nobody", lg),
            t("first_response_at", lg): _fmt_dt(tk["first_response_at"]),
            t("resolved_at", lg): _fmt_dt(tk["resolved_at"]),
        }
        st.table(pd.DataFrame({"": list(meta.values())}, index=list(meta.keys())))
        if can_work:
            _actions(tk)
    if can_work:
        _reply_and_note(tk)
    with st.expander(t("audit", lg)):
        st.dataframe(pd.DataFrame([{"at": _fmt_dt(a["at"]), "user": a["user"], "action": a["action"],
                                    "detail": str(a["detail"] or "")} for a in tk["audit"]]),
                     hide_index=True, width="stretch")


def _run(fn, *args, ok_text=None, **kwargs) -> None:
    try:
        fn(*args, **kwargs)
        st.session_state["flash"] = ("ok", ok_text or t("saved", lg))
    except (desk.DeskError, desk.DeskPermissionError) as exc:
        st.session_state["flash"] = ("err", str(exc))
    st.rerun()


def _actions(tk: dict) -> None:
    if tk["assignee_id"] != user["id"] and st.button(t("claim", lg), key="claim"):
        _run(desk.claim, tk["id"], user["id"])
    agents = desk.agents()
    ids = [a for a, _ in agents]
    names = dict(agents)
    c1, c2 = st.columns([3, 1])
    target = c1.selectbox(t("assign_to", lg), ids, format_func=lambda i: names[i], key="assign_to",
                          index=ids.index(tk["assignee_id"]) if tk["assignee_id"] in ids else 0)
    if c2.button(t("assign", lg), key="assign_btn"):
        _run(desk.assign, tk["id"], target, user["id"])
    nxt = sorted(desk.TRANSITIONS[tk["status"]], key=desk.STATUSES.index)
    c1, c2 = st.columns([3, 1])
    status = c1.selectbox(t("status_change", lg), nxt, format_func=lambda c: label("ticket_statuses", c, lg), key="status_to")
    if c2.button(t("reopen", lg) if tk["status"] == "resolved" else t("apply", lg), key="status_btn"):
        _run(desk.set_status, tk["id"], status, user["id"])

    st.subheader(t("fields", lg))
    cats, profs = codes("categories"), codes("profiles")
    countries = country_options(lg)
    iso = [c for c, _ in countries]
    cnames = dict(countries)
    with st.form("fields"):
        cat = st.selectbox(t("category", lg), cats, format_func=lambda c: label("categories", c, lg),
                           index=cats.index(tk["category"]) if tk["category"] in cats else None, key="fld_category")
        prof = st.selectbox(t("profile", lg), profs, format_func=lambda c: label("profiles", c, lg),
                            index=profs.index(tk["profile"]) if tk["profile"] in profs else None, key="fld_profile")
        ctry = st.selectbox(t("origin_country", lg), iso, format_func=lambda c: f"{cnames.get(c, c)} ({c})",
                            index=iso.index(tk["origin_country"]) if tk["origin_country"] in iso else None, key="fld_country")
        if st.form_submit_button(t("save", lg)):
            _run(desk.update_fields, tk["id"], user["id"], category=cat, profile=prof, origin_country=ctry)
    missing = desk.missing_for_resolution(tk)
    if missing:
        st.caption("⚠ " + ", ".join(missing))


def _reply_and_note(tk: dict) -> None:
    from dashboard.mailer import send_mail

    st.subheader(t("reply", lg))
    if not tk["contact_email"]:
        st.warning(t("no_email", lg))
    else:
        req_lang = tk["language"] if tk["language"] in LANGUAGES else "fr"
        with st.form("reply", clear_on_submit=True):
            subject = st.text_input(t("reply_subject", lg), value=t("reply_subject_default", req_lang, reference=tk["reference"]),
                                    key="reply_subject")
            body = st.text_area(t("reply_body", lg), key="reply_body", height=200)
            if st.form_submit_button(t("send", lg)):
                try:
                    res = desk.send_reply(tk["id"], user["id"], subject, body, send_mail)
                    st.session_state["flash"] = (("ok", t("sent_ok", lg, to=res["to"])) if res["ok"]
                                                 else ("err", t("sent_failed", lg, error=res["error"])))
                except (desk.DeskError, desk.DeskPermissionError) as exc:
                    st.session_state["flash"] = ("err", str(exc))
                st.rerun()
    with st.form("note", clear_on_submit=True):
        note = st.text_area(t("note", lg), key="note_body")
        if st.form_submit_button(t("add_note", lg)):
            _run(desk.add_note, tk["id"], user["id"], note)


if st.session_state.get("ticket_id"):
    ticket_view(st.session_state["ticket_id"])
else:
    queue()
