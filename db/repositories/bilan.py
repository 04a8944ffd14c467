"""The management bilan, computed in SQL (GROUP BY) — never by loading rows.

``compute_bilan(start, end)`` takes the period as dates, ``end`` included,
and returns a plain dict (JSON-friendly once dates are turned into strings):

* only **requests** are counted (``enquiries.bilan_status = 'request'``, the written
  definition is in core/requests.py); tests, empty and garbage sessions are
  counted apart in ``excluded``, by reason;
* an enquiry belongs to the period by ``started_at``; a ticket by ``created_at``;
* the category of an enquiry is the category of its first categorised
  question, kept in ``enquiries.category`` by a trigger (migration 0002);
  enquiries with none are "unknown";
* the enquiry figures come from ONE hashed grouped scan (bilan status ×
  category × profile × origin × outcome × month × channel, with turn and
  feedback sums) folded into the breakdowns, plus a small one by country of
  treatment; on PostgreSQL the independent queries run side by side (GROUPING
  SETS were tried: PostgreSQL sorts them on disk, 10× slower at 1M rows);
* profile ``UNK`` and origin group ``UNKNOWN`` are the "unknown" buckets;
* every breakdown (category, profile, origin, outcome, channel, country of
  treatment, satisfaction) lists every code of the vocabulary (0 when absent),
  unknown last, and its denominator is ``total``, the number of requests of
  the period — one denominator for every share, in the tables and the text;
* ``previous``: the same figures' totals for the period of the same length
  just before (``previous_period``);
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

from core import vocabulary as vocab
from core.requests import EXCLUSIONS, REQUEST
from db.models import Enquiry, EnquiryQuestion, Ticket
from db.session import get_engine

UNKNOWN_CATEGORY = None
TOP_N = 10


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00 UTC, end+1 00:00 UTC)."""
    lo = dt.datetime(start.year, start.month, start.day, tzinfo=dt.timezone.utc)
    hi = dt.datetime(end.year, end.month, end.day, tzinfo=dt.timezone.utc) + dt.timedelta(days=1)
    return lo, hi


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


def _month_bucket(col, dialect: str):
    if dialect == "postgresql":
        return func.date_trunc("month", func.timezone("UTC", col))
    return func.substr(col, 1, 7)


def _month_text(v) -> str:
    return v if isinstance(v, str) else f"{v.year:04d}-{v.month:02d}"


def _enquiry_cube(conn, dialect: str, lo, hi) -> list:
    """ONE scan of the period's enquiries: counts, turn sums and feedback counts per
    (bilan status, category, profile, origin group, outcome, month, channel) — hashed, a few
    tens of thousands of rows at most."""
    e = Enquiry.__table__
    month = _month_bucket(e.c.started_at, dialect).label("month")
    helpful = func.sum(sa.case((e.c.feedback_helpful.is_(True), 1), else_=0))
    not_helpful = func.sum(sa.case((e.c.feedback_helpful.is_(False), 1), else_=0))
    keys = (e.c.bilan_status, e.c.category, e.c.profile, e.c.origin_group, e.c.outcome, month, e.c.channel)
    stmt = (select(*keys, func.count(), func.sum(e.c.user_turns), func.sum(e.c.fallback_turns), helpful, not_helpful)
            .where(e.c.started_at >= lo, e.c.started_at < hi)
            .group_by(*keys))
    return conn.execute(stmt).all()


def _treatment(conn, lo, hi) -> list:
    """Requests by country of treatment (a second, small grouped scan)."""
    e = Enquiry.__table__
    return conn.execute(select(e.c.treatment_country, func.count())
                        .where(e.c.started_at >= lo, e.c.started_at < hi, e.c.bilan_status == REQUEST)
                        .group_by(e.c.treatment_country)).all()


def _previous(conn, lo, hi) -> list:
    """The previous period, for the comparison: requests by channel and outcome, sessions left out."""
    e = Enquiry.__table__
    return conn.execute(select(e.c.bilan_status, e.c.channel, e.c.outcome, func.count())
                        .where(e.c.started_at >= lo, e.c.started_at < hi)
                        .group_by(e.c.bilan_status, e.c.channel, e.c.outcome)).all()


def _requests_only(q):
    """Questions of the enquiries counted as requests: an anti-join against the few sessions
    left out (tests, empty, garbage), found by the partial index ``ix_enquiries_not_request``."""
    e = Enquiry.__table__
    return ~sa.exists().where(e.c.id == q.c.enquiry_id, e.c.bilan_status != REQUEST)


def _top_questions(conn, lo, hi, top_n: int) -> list:
    q = EnquiryQuestion.__table__
    return [{"code": c, "count": int(n)} for c, n in conn.execute(
        select(q.c.question_code, func.count().label("n"))
        .where(q.c.question_code.isnot(None), q.c.asked_at >= lo, q.c.asked_at < hi, _requests_only(q))
        .group_by(q.c.question_code).order_by(sa.desc("n"), q.c.question_code).limit(top_n))]


def _top_unanswered(conn, lo, hi, top_n: int) -> list:
    q = EnquiryQuestion.__table__
    text = func.lower(func.trim(q.c.text_redacted))
    return [{"text": x, "count": int(n)} for x, n in conn.execute(
        select(text.label("text"), func.count().label("n"))
        .where(q.c.outcome.in_(["not_understood", "out_of_scope"]), q.c.text_redacted.isnot(None),
               q.c.asked_at >= lo, q.c.asked_at < hi, _requests_only(q))
        .group_by(text).order_by(sa.desc("n"), text).limit(top_n))]


def _ticket_stats(conn, dialect: str, lo, hi) -> dict:
    t = Ticket.__table__
    period = [t.c.created_at >= lo, t.c.created_at < hi]
    fr_s = _seconds_expr(t.c.first_response_at, t.c.created_at, dialect)
    res_s = _seconds_expr(t.c.resolved_at, t.c.created_at, dialect)
    by_status = {k: int(n) for k, n in conn.execute(select(t.c.status, func.count()).where(*period).group_by(t.c.status))}
    out = {"tickets": {"created": sum(by_status.values()),
                       "by_status": {s: by_status.get(s, 0) for s in vocab.load()["ticket_statuses"]}}}
    if dialect == "postgresql":
        # percentile_cont ignores NULLs: one pass gives both distributions
        row = conn.execute(select(
            func.count(t.c.first_response_at), func.count(t.c.resolved_at),
            func.percentile_cont(0.5).within_group(fr_s), func.percentile_cont(0.9).within_group(fr_s),
            func.percentile_cont(0.5).within_group(res_s), func.percentile_cont(0.9).within_group(res_s),
        ).where(*period)).one()
        f = lambda v: float(v) if v is not None else None  # noqa: E731
        out["first_response"] = {"n": int(row[0]), "median_s": f(row[2]), "p90_s": f(row[3])}
        out["resolution"] = {"n": int(row[1]), "median_s": f(row[4]), "p90_s": f(row[5])}
    else:
        out["first_response"] = _percentiles(conn, dialect, fr_s, [*period, t.c.first_response_at.isnot(None)])
        out["resolution"] = _percentiles(conn, dialect, res_s, [*period, t.c.resolved_at.isnot(None)])
    return out


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length just before: the same number of whole months when the
    period is whole months (Jan–Jun → Jul–Dec of the year before), else the same number of days."""
    if start.day == 1 and (end + dt.timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        y, m = divmod(start.year * 12 + start.month - 1 - months, 12)
        return dt.date(y, m + 1, 1), start - dt.timedelta(days=1)
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


def _fold_previous(rows, start: dt.date, end: dt.date) -> dict:
    out = {"start": start, "end": end, "total": 0, "excluded": 0, "escalated": 0, "channel": {}}
    for status, channel, outcome, n in rows:
        n = int(n)
        if status != REQUEST:
            out["excluded"] += n
            continue
        out["total"] += n
        out["escalated"] += n if outcome == "escalated" else 0
        out["channel"][channel] = out["channel"].get(channel, 0) + n
    return out


def compute_bilan(start: dt.date, end: dt.date, *, url: Optional[str] = None, top_n: int = TOP_N,
                  compare: bool = True) -> dict:
    """The bilan of [start, end] (dates, end included): requests only (core/requests.py), every
    share over the same denominator (``total``), the excluded sessions counted apart, and the
    previous period of the same length for comparison."""
    lo, hi = _bounds(start, end)
    engine = get_engine(url)
    dialect = engine.dialect.name
    prev_start, prev_end = previous_period(start, end)
    plo, phi = _bounds(prev_start, prev_end)
    jobs = {
        "cube": lambda c: _enquiry_cube(c, dialect, lo, hi),
        "treatment": lambda c: _treatment(c, lo, hi),
        "top_questions": lambda c: _top_questions(c, lo, hi, top_n),
        "top_unanswered": lambda c: _top_unanswered(c, lo, hi, top_n),
        "tickets": lambda c: _ticket_stats(c, dialect, lo, hi),
    }
    if compare:
        jobs["previous"] = lambda c: _previous(c, plo, phi)
    if dialect == "postgresql":
        # independent read-only queries: run them side by side on pooled connections
        from concurrent.futures import ThreadPoolExecutor

        def run(job):
            with engine.connect() as conn:
                return job(conn)
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = {k: pool.submit(run, j) for k, j in jobs.items()}
            out = {k: f.result() for k, f in futures.items()}
    else:
        with engine.connect() as conn:
            out = {k: j(conn) for k, j in jobs.items()}

    res: dict = {"start": start, "end": end}
    dims = {"category": {}, "profile": {}, "origin": {}, "outcome": {}, "channel": {}}
    months: dict = {}
    excluded: dict = {}
    total = user_turns = fallback_turns = helpful = not_helpful = 0
    for status, cat, prof, group, outcome, month, channel, n, ut, ft, yes, no in out["cube"]:
        n = int(n)
        if status != REQUEST:
            excluded[status] = excluded.get(status, 0) + n
            continue
        total += n
        user_turns += int(ut or 0)
        fallback_turns += int(ft or 0)
        helpful += int(yes or 0)
        not_helpful += int(no or 0)
        for dim, code in (("category", cat), ("profile", prof), ("origin", group), ("outcome", outcome),
                          ("channel", channel)):
            dims[dim][code] = dims[dim].get(code, 0) + n
        m = months.setdefault(_month_text(month), {"enquiries": 0, "answered": 0, "escalated": 0})
        m["enquiries"] += n
        if outcome in ("answered", "escalated"):
            m[outcome] += n
    dims["treatment"] = {country: int(n) for country, n in out["treatment"]}
    dims["satisfaction"] = {"helpful": helpful, "not_helpful": not_helpful,
                            "no_answer": total - helpful - not_helpful}
    res["total"], res["user_turns"], res["fallback_turns"] = total, user_turns, fallback_turns
    res["excluded"] = [{"code": code, "count": int(excluded.get(code, 0))} for code in EXCLUSIONS]
    res["sessions"] = total + sum(excluded.values())
    res["category"] = _complete(dims["category"], "categories", None)
    res["profile"] = _complete(dims["profile"], "profiles", "UNK")
    res["origin"] = _complete(dims["origin"], "origin_groups", "UNKNOWN")
    res["outcome"] = _complete(dims["outcome"], "enquiry_outcomes", None)
    res["channel"] = _complete(dims["channel"], "channels", None)
    res["treatment"] = _by_count(dims["treatment"])
    res["satisfaction"] = _complete(dims["satisfaction"], "satisfaction", None)
    res["monthly"] = [{"month": k, **v} for k, v in sorted(months.items())]
    res["answered"] = dims["outcome"].get("answered", 0)
    res["escalated"] = dims["outcome"].get("escalated", 0)
    res["escalation_rate"] = res["escalated"] / total if total else None
    res["fallback_rate"] = fallback_turns / user_turns if user_turns else None
    res["satisfaction_rate"] = helpful / (helpful + not_helpful) if helpful + not_helpful else None
    res["top_questions"] = out["top_questions"]
    res["top_unanswered"] = out["top_unanswered"]
    res.update(out["tickets"])
    res["previous"] = _fold_previous(out["previous"], prev_start, prev_end) if compare else None
    return res


def _by_count(rows: dict) -> list[dict]:
    """Countries by decreasing count (then code), unknown last."""
    known = sorted(((c, n) for c, n in rows.items() if c), key=lambda x: (-x[1], x[0]))
    return [{"code": c, "count": int(n)} for c, n in known] + [{"code": None, "count": int(rows.get(None, 0))}]

