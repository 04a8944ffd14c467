"""The management bilan, computed in SQL (GROUP BY) — never by loading rows.

``compute_bilan(start, end)`` takes the period as dates, ``end`` included,
and returns a plain dict (JSON-friendly once dates are turned into strings):

* an enquiry belongs to the period by ``started_at``; a ticket by ``created_at``;
* the category of an enquiry is the category of its first categorised
  question (lowest question id); enquiries with none are "unknown";
* profile ``UNK`` and origin group ``UNKNOWN`` are the "unknown" buckets;
* every breakdown lists every code of the vocabulary (0 when absent), unknown
  last, and its denominator is the number of enquiries of the period;
* escalation rate = enquiries with outcome ``escalated`` ÷ enquiries;
  fallback rate = Σ fallback_turns ÷ Σ user_turns;
* response times are in seconds, median and 90th percentile with linear
  interpolation (``percentile_cont`` on PostgreSQL, two ``ORDER BY … LIMIT 1
  OFFSET k`` look-ups on SQLite: O(log n) with the index, no row loaded).
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Optional

import sqlalchemy as sa
from sqlalchemy import func, select

from db import vocabularies as vocab
from db.models import Enquiry, EnquiryQuestion, Ticket
from db.session import get_engine

UNKNOWN_CATEGORY = None
TOP_N = 10


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00 UTC, end+1 00:00 UTC)."""
    lo = dt.datetime(start.year, start.month, start.day, tzinfo=dt.timezone.utc)
    hi = dt.datetime(end.year, end.month, end.day, tzinfo=dt.timezone.utc) + dt.timedelta(days=1)
    return lo, hi


def _month_expr(col, dialect: str):
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", col), "YYYY-MM")
    return func.substr(col, 1, 7)


def _seconds_expr(later, earlier, dialect: str):
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _complete(rows: dict, section: str, unknown_code) -> list[dict]:
    """Every vocabulary code in file order, then the unknown bucket, then stray codes."""
    out = []
    known = [c for c in (vocab.load().get(section) or {}) if c != unknown_code]
    seen = set()
    for code in known:
        out.append({"code": code, "count": int(rows.get(code, 0))})
        seen.add(code)
    for code, n in rows.items():
        if code not in seen and code != unknown_code and code is not None:
            out.append({"code": code, "count": int(n)})  # a code no longer in the vocabulary
    out.append({"code": unknown_code, "count": int(rows.get(unknown_code, 0)) + int(rows.get(None, 0) if unknown_code is not None else 0)})
    return out


def _percentiles(conn, dialect: str, value, where: list, ps=(0.5, 0.9)) -> dict:
    """{'n', 'median_s', 'p90_s'} of ``value`` over rows matching ``where``."""
    n = conn.execute(select(func.count()).select_from(Ticket).where(*where)).scalar() or 0
    out = {"n": int(n), "median_s": None, "p90_s": None}
    if not n:
        return out
    keys = ("median_s", "p90_s")
    if dialect == "postgresql":
        cols = [func.percentile_cont(p).within_group(value) for p in ps]
        row = conn.execute(select(*cols).select_from(Ticket).where(*where)).one()
        for k, v in zip(keys, row):
            out[k] = float(v) if v is not None else None
        return out
    ordered = select(value.label("v")).select_from(Ticket).where(*where).order_by(value)
    for k, p in zip(keys, ps):
        pos = p * (n - 1)
        lo = math.floor(pos)
        vals = [r[0] for r in conn.execute(ordered.limit(2 if pos > lo else 1).offset(lo))]
        v = vals[0] + (vals[1] - vals[0]) * (pos - lo) if len(vals) == 2 else vals[0]
        out[k] = float(v)
    return out


def compute_bilan(start: dt.date, end: dt.date, *, url: Optional[str] = None, top_n: int = TOP_N) -> dict:
    lo, hi = _bounds(start, end)
    engine = get_engine(url)
    dialect = engine.dialect.name
    e = Enquiry.__table__
    q = EnquiryQuestion.__table__
    t = Ticket.__table__
    in_period = [e.c.started_at >= lo, e.c.started_at < hi]
    res: dict = {"start": start, "end": end}
    with engine.connect() as conn:
        # totals, outcomes, turns -------------------------------------------------
        totals = conn.execute(select(func.count(), func.coalesce(func.sum(e.c.user_turns), 0),
                                     func.coalesce(func.sum(e.c.fallback_turns), 0)).where(*in_period)).one()
        total = int(totals[0])
        res["total"] = total
        res["user_turns"], res["fallback_turns"] = int(totals[1]), int(totals[2])

        def group(col):
            return {k: int(n) for k, n in conn.execute(select(col, func.count()).where(*in_period).group_by(col))}

        res["profile"] = _complete(group(e.c.profile), "profiles", "UNK")
        res["origin"] = _complete(group(e.c.origin_group), "origin_groups", "UNKNOWN")
        res["outcome"] = _complete(group(e.c.outcome), "enquiry_outcomes", None)
        outcomes = {r["code"]: r["count"] for r in res["outcome"]}

        # category of each enquiry = category of its first categorised question ---
        first_q = (
            select(func.min(q.c.id).label("qid"))
            .select_from(q.join(e, e.c.id == q.c.enquiry_id))
            .where(q.c.category.isnot(None), *in_period)
            .group_by(q.c.enquiry_id)
            .subquery()
        )
        cats = {k: int(n) for k, n in conn.execute(
            select(q.c.category, func.count()).select_from(q.join(first_q, q.c.id == first_q.c.qid)).group_by(q.c.category))}
        cats[None] = total - sum(cats.values())
        res["category"] = _complete(cats, "categories", None)

        # monthly trend -----------------------------------------------------------
        month = _month_expr(e.c.started_at, dialect).label("month")
        res["monthly"] = [
            {"month": m, "enquiries": int(n), "answered": int(a or 0), "escalated": int(x or 0)}
            for m, n, a, x in conn.execute(
                select(month, func.count(),
                       func.sum(sa.case((e.c.outcome == "answered", 1), else_=0)),
                       func.sum(sa.case((e.c.outcome == "escalated", 1), else_=0)))
                .where(*in_period).group_by(month).order_by(month))
        ]
        res["answered"] = outcomes.get("answered", 0)
        res["escalated"] = outcomes.get("escalated", 0)
        res["escalation_rate"] = res["escalated"] / total if total else None
        res["fallback_rate"] = res["fallback_turns"] / res["user_turns"] if res["user_turns"] else None

        # question types and unanswered questions (questions of the period's enquiries)
        q_period = [q.c.asked_at >= lo, q.c.asked_at < hi]
        res["top_questions"] = [
            {"code": c, "count": int(n)} for c, n in conn.execute(
                select(q.c.question_code, func.count().label("n")).where(q.c.question_code.isnot(None), *q_period)
                .group_by(q.c.question_code).order_by(sa.desc("n"), q.c.question_code).limit(top_n))
        ]
        text = func.lower(func.trim(q.c.text_redacted))
        res["top_unanswered"] = [
            {"text": x, "count": int(n)} for x, n in conn.execute(
                select(text.label("text"), func.count().label("n"))
                .where(q.c.outcome.in_(["not_understood", "out_of_scope"]), q.c.text_redacted.isnot(None), *q_period)
                .group_by(text).order_by(sa.desc("n"), text).limit(top_n))
        ]

        # tickets created in the period -------------------------------------------
        t_period = [t.c.created_at >= lo, t.c.created_at < hi]
        by_status = {k: int(n) for k, n in conn.execute(select(t.c.status, func.count()).where(*t_period).group_by(t.c.status))}
        res["tickets"] = {"created": sum(by_status.values()),
                          "by_status": {s: by_status.get(s, 0) for s in ("new", "open", "waiting", "resolved")}}
        res["first_response"] = _percentiles(
            conn, dialect, _seconds_expr(t.c.first_response_at, t.c.created_at, dialect),
            [*t_period, t.c.first_response_at.isnot(None)])
        res["resolution"] = _percentiles(
            conn, dialect, _seconds_expr(t.c.resolved_at, t.c.created_at, dialect),
            [*t_period, t.c.resolved_at.isnot(None)])
    return res


def data_range(url: Optional[str] = None) -> tuple[Optional[dt.date], Optional[dt.date]]:
    """First and last enquiry dates (for the period picker's bounds)."""
    e = Enquiry.__table__
    with get_engine(url).connect() as conn:
        lo, hi = conn.execute(select(func.min(e.c.started_at), func.max(e.c.started_at))).one()

    def as_date(v):
        if v is None:
            return None
        if isinstance(v, str):
            v = dt.datetime.fromisoformat(v[:19])
        return v.date()
    return as_date(lo), as_date(hi)
