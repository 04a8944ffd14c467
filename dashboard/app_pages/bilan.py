"""Management bilan: period picker, breakdowns with denominators, trend, times, exports."""
from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import auth, exports
from dashboard.i18n import t
from dashboard.report import (breakdown_rows, default_period, fmt_duration, fmt_rate, paragraph, question_rows,
                              unknown_count)
from db.repositories.bilan import compute_bilan
from core import settings

user = auth.require_role("manager", "admin")
lg = auth.lang()


@st.cache_data(ttl=60, show_spinner=False)
def _bilan(start: dt.date, end: dt.date, url: str) -> dict:
    return compute_bilan(start, end, url=url)


st.title(t("bilan_title", lg))
d_start, d_end = default_period()
period = st.date_input(t("period", lg), value=(d_start, d_end), help=t("period_default_help", lg),
                       format="YYYY-MM-DD", key="bilan_period")
if not isinstance(period, (tuple, list)) or len(period) != 2:
    st.stop()  # the user is still picking the end date
start, end = period
bilan = _bilan(start, end, settings.database_url())
n = bilan["total"]

c = st.columns(5)
c[0].metric(t("total_enquiries", lg), n)
c[1].metric(t("answered", lg), bilan["answered"])
c[2].metric(t("escalated", lg), bilan["escalated"])
c[3].metric(t("escalation_rate", lg), fmt_rate(bilan["escalated"], n, lg))
c[4].metric(t("fallback_rate", lg), fmt_rate(bilan["fallback_turns"], bilan["user_turns"], lg),
            help=t("fallback_help", lg, num=bilan["fallback_turns"], den=bilan["user_turns"]))
if n == 0:
    st.info(t("empty_period", lg))

st.subheader(t("paragraph", lg))
st.markdown(f"> {paragraph(bilan, 'fr')}")
st.markdown(f"> {paragraph(bilan, 'en')}")


def breakdown(dim: str, title_key: str) -> None:
    rows = breakdown_rows(bilan, dim, lg)
    st.subheader(t(title_key, lg))
    st.caption(t("denominator", lg, n=n, unknown=unknown_count(bilan, dim)))
    df = pd.DataFrame([{t("label", lg): r["label"], t("count", lg): r["count"], t("share", lg): r["share"]} for r in rows])
    chart = alt.Chart(df).mark_bar().encode(
        x=alt.X(f"{t('count', lg)}:Q"), y=alt.Y(f"{t('label', lg)}:N", sort=None, title=None),
        tooltip=list(df.columns))
    st.altair_chart(chart, width="stretch")
    st.dataframe(df, hide_index=True, width="stretch")


left, right = st.columns(2)
with left:
    breakdown("category", "by_category")
    breakdown("origin", "by_origin")
with right:
    breakdown("profile", "by_profile")
    breakdown("outcome", "by_outcome")
st.caption(t("rounding_note", lg))

st.subheader(t("monthly_trend", lg))
if bilan["monthly"]:
    mdf = pd.DataFrame(bilan["monthly"]).rename(columns={
        "month": t("month", lg), "enquiries": t("total_enquiries", lg),
        "answered": t("answered", lg), "escalated": t("escalated", lg)})
    st.line_chart(mdf.set_index(t("month", lg)))
    st.dataframe(mdf, hide_index=True, width="stretch")

st.subheader(t("response_times", lg))
times = pd.DataFrame([
    {"": t(k, lg), t("n_tickets", lg): bilan[key]["n"], t("median", lg): fmt_duration(bilan[key]["median_s"], lg),
     t("p90", lg): fmt_duration(bilan[key]["p90_s"], lg)}
    for k, key in (("first_response", "first_response"), ("resolution", "resolution"))])
st.caption(f"{t('tickets_created', lg)} : {bilan['tickets']['created']}")
st.dataframe(times, hide_index=True, width="stretch")

q1, q2 = st.columns(2)
with q1:
    st.subheader(t("top_questions", lg))
    st.dataframe(pd.DataFrame([{t("label", lg): r["label"], t("count", lg): r["count"]} for r in question_rows(bilan, lg)]),
                 hide_index=True, width="stretch")
with q2:
    st.subheader(t("top_unanswered", lg))
    st.dataframe(pd.DataFrame([{t("col_question", lg): r["text"], t("count", lg): r["count"]} for r in bilan["top_unanswered"]]),
                 hide_index=True, width="stretch")

st.subheader(t("exports", lg))
e1, e2, e3 = st.columns(3)
e1.download_button(t("export_csv", lg), exports.to_csv(bilan, lg), exports.filename(bilan, "csv"), "text/csv", key="dl_csv")
e2.download_button(t("export_xlsx", lg), exports.to_xlsx(bilan, lg), exports.filename(bilan, "xlsx"),
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx")
e3.download_button(t("export_html", lg), exports.to_html(bilan, lg).encode("utf-8"), exports.filename(bilan, "html"),
                   "text/html", key="dl_html")
