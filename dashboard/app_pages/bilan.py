"""Management bilan: requests only (written definition), one denominator, breakdowns by category,
profile, origin, channel, country of treatment and satisfaction, the previous period, exports."""
from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from core import settings
from dashboard import auth, exports, ui
from dashboard.i18n import t
from dashboard.report import (breakdown_rows, comparison_rows, default_period, excluded_rows, excluded_total,
                              fmt_duration, fmt_rate, paragraph, question_rows, unknown_count)
from db.repositories.bilan import compute_bilan

user = auth.require_role("manager", "admin")
lg = auth.lang()
PH = ui.placeholder(lg)


@st.cache_data(ttl=60, show_spinner=False)
def _bilan(start: dt.date, end: dt.date, url: str) -> dict:
    return compute_bilan(start, end, url=url)


def _months(today: dt.date, back: int = 60) -> list[dt.date]:
    """First days of the months offered, newest first (up to the current month)."""
    y, m = today.year, today.month
    out = []
    for _ in range(back):
        out.append(dt.date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


def _month_label(d: dt.date) -> str:
    return f"{ui.month_name(d.month, lg)} {d.year}"


st.title(t("bilan_title", lg))
today = dt.date.today()
months = _months(today)
d_start, d_end = default_period(today)
c1, c2 = st.columns(2)
first = c1.selectbox(t("period_from", lg), months, index=months.index(d_start.replace(day=1)),
                     format_func=_month_label, key="bilan_from", help=t("period_default_help", lg), placeholder=PH)
last = c2.selectbox(t("period_to", lg), months, index=months.index(d_end.replace(day=1)),
                    format_func=_month_label, key="bilan_to", help=t("period_to_help", lg), placeholder=PH)
if last < first:
    st.error(t("period_reversed", lg))
    st.stop()
start = first
end = (dt.date(last.year + (last.month == 12), last.month % 12 + 1, 1) - dt.timedelta(days=1))
if end >= today:
    st.warning(t("period_incomplete", lg))
bilan = _bilan(start, end, settings.database_url())
n = bilan["total"]

c = st.columns(5)
c[0].metric(t("total_enquiries", lg), n)
c[1].metric(t("answered", lg), bilan["answered"])
c[2].metric(t("escalated", lg), bilan["escalated"])
c[3].metric(t("escalation_rate", lg), fmt_rate(bilan["escalated"], n, lg))
c[4].metric(t("fallback_rate", lg), fmt_rate(bilan["fallback_turns"], bilan["user_turns"], lg),
            help=t("fallback_help", lg, num=bilan["fallback_turns"], den=bilan["user_turns"]))
st.caption(t("request_definition", lg))
if n == 0:
    st.info(t("empty_period", lg))

st.subheader(t("paragraph", lg))
with st.container(border=True):
    st.markdown(ui.escape_markdown(paragraph(bilan, "fr")))
with st.container(border=True):
    st.markdown(ui.escape_markdown(paragraph(bilan, "en")))
st.caption(t("denominator_rule", lg))


def table(rows: list[dict], columns: dict) -> None:
    """A dataframe whose every column is visible and labelled (no hidden share column)."""
    df = pd.DataFrame([{label: r[key] for key, label in columns.items()} for r in rows])
    st.dataframe(df, hide_index=True, width="stretch",
                 column_config={t("share", lg): st.column_config.NumberColumn(format="%.1f %%")})


def breakdown(dim: str, title_key: str) -> None:
    rows = breakdown_rows(bilan, dim, lg)
    title = t(title_key, lg)
    st.subheader(title)
    st.caption(t("denominator", lg, n=n, unknown=unknown_count(bilan, dim)))
    df = pd.DataFrame([{"label": r["label"], "count": r["count"], "share": r["share"]} for r in rows])
    chart = alt.Chart(df).mark_bar().encode(
        x=alt.X("count:Q", title=t("count", lg)),
        y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=320)),
        tooltip=[alt.Tooltip("label:N", title=t("label", lg)), alt.Tooltip("count:Q", title=t("count", lg)),
                 alt.Tooltip("share:Q", title=t("share", lg), format=".1f")],
    ).properties(title=title, description=t("chart_description", lg, title=title))
    st.altair_chart(chart, width="stretch")
    table(rows, {"label": t("label", lg), "count": t("count", lg), "share": t("share", lg)})


left, right = st.columns(2)
with left:
    breakdown("category", "by_category")
    breakdown("origin", "by_origin")
    breakdown("channel", "by_channel")
    breakdown("satisfaction", "by_satisfaction")
with right:
    breakdown("profile", "by_profile")
    breakdown("outcome", "by_outcome")
    breakdown("treatment", "by_treatment")
    helpful = next((r["count"] for r in bilan["satisfaction"] if r["code"] == "helpful"), 0)
    answers = helpful + next((r["count"] for r in bilan["satisfaction"] if r["code"] == "not_helpful"), 0)
    st.metric(t("satisfaction_rate", lg), fmt_rate(helpful, answers, lg),
              help=t("satisfaction_help", lg, num=helpful, den=answers))
st.caption(t("rounding_note", lg))

st.subheader(t("excluded_sessions", lg))
st.caption(t("excluded_help", lg))
table(excluded_rows(bilan, lg) + [{"label": t("total", lg), "count": excluded_total(bilan)}],
      {"label": t("label", lg), "count": t("count", lg)})

st.subheader(t("comparison", lg))
prev = bilan["previous"]
st.caption(t("previous_period_dates", lg, start=prev["start"].isoformat(), end=prev["end"].isoformat()))
cmp = comparison_rows(bilan, lg)
m = st.columns(3)
m[0].metric(t("total_enquiries", lg), n, delta=n - prev["total"] if prev["total"] else None)
m[1].metric(t("escalated", lg), bilan["escalated"],
            delta=bilan["escalated"] - prev["escalated"] if prev["escalated"] else None, delta_color="off")
m[2].metric(t("excluded_sessions", lg), excluded_total(bilan),
            delta=excluded_total(bilan) - prev["excluded"] if prev["excluded"] else None, delta_color="off")
table(cmp, {"label": t("figure", lg), "now": t("this_period", lg), "before": t("previous_period", lg),
            "evolution": t("evolution", lg)})

st.subheader(t("monthly_trend", lg))
if bilan["monthly"]:
    mdf = pd.DataFrame(bilan["monthly"])
    long = mdf.melt(id_vars="month", value_vars=["enquiries", "answered", "escalated"])
    names = {"enquiries": t("total_enquiries", lg), "answered": t("answered", lg), "escalated": t("escalated", lg)}
    long["variable"] = long["variable"].map(names)
    st.altair_chart(alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("month:N", title=t("month", lg)), y=alt.Y("value:Q", title=t("count", lg)),
        color=alt.Color("variable:N", title=None)).properties(
        description=t("chart_description", lg, title=t("monthly_trend", lg))), width="stretch")
    table(bilan["monthly"], {"month": t("month", lg), "enquiries": t("total_enquiries", lg),
                             "answered": t("answered", lg), "escalated": t("escalated", lg)})

st.subheader(t("response_times", lg))
st.caption(f"{t('tickets_created', lg)} : {bilan['tickets']['created']}")
table([{"what": t(k, lg), "n": bilan[k]["n"], "median": fmt_duration(bilan[k]["median_s"], lg),
        "p90": fmt_duration(bilan[k]["p90_s"], lg)} for k in ("first_response", "resolution")],
      {"what": t("figure", lg), "n": t("n_tickets", lg), "median": t("median", lg), "p90": t("p90", lg)})

q1, q2 = st.columns(2)
with q1:
    st.subheader(t("top_questions", lg))
    table(question_rows(bilan, lg), {"label": t("label", lg), "count": t("count", lg)})
with q2:
    st.subheader(t("top_unanswered", lg))
    table(bilan["top_unanswered"], {"text": t("col_question", lg), "count": t("count", lg)})

st.subheader(t("exports", lg))
e1, e2, e3 = st.columns(3)
e1.download_button(t("export_csv", lg), exports.to_csv(bilan, lg), exports.filename(bilan, "csv"), "text/csv", key="dl_csv")
e2.download_button(t("export_xlsx", lg), exports.to_xlsx(bilan, lg), exports.filename(bilan, "xlsx"),
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx")
e3.download_button(t("export_html", lg), exports.to_html(bilan, lg).encode("utf-8"), exports.filename(bilan, "html"),
                   "text/html", key="dl_html")
