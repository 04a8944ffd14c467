"""Turning bilan figures into rows, shares and the bilan paragraph (FR/EN).

One denominator everywhere — the requests of the period, unknowns included —
and one rounding rule: the largest-remainder method, so that every table of
shares sums to exactly 100 (the 2015 bilan's origins summed to 98.2 %). The
paragraph quotes the tables' own shares.
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_FLOOR, Decimal

from core.content import localized
from core.countries import country
from dashboard.i18n import label, question_label, t, ui_labels

# bilan dimension -> vocabulary of its codes (treatment: countries, named by content/countries.yml)
DIMENSIONS = {
    "category": "categories",
    "profile": "profiles",
    "origin": "origin_groups",
    "outcome": "enquiry_outcomes",
    "channel": "channels",
    "treatment": None,
    "satisfaction": "satisfaction",
}
# dimensions whose every request has a value: no "unknown" row
_NO_UNKNOWN = ("outcome", "channel", "satisfaction")
UNKNOWN_CODES = (None, "", "UNK", "UNKNOWN")


def largest_remainder(counts: list[int], decimals: int = 1) -> list[float]:
    """Percentages of ``counts`` rounded so that they sum to exactly 100.

    Each share is floored to ``decimals``; the missing units go, one each, to
    the shares with the largest remainders (ties: the larger count, then the
    earlier row).  All zeros when the total is 0.
    """
    total = sum(counts)
    if total <= 0:
        return [0.0 for _ in counts]
    unit = Decimal(1).scaleb(-decimals)  # 0.1 for decimals=1
    units_total = int(Decimal(100) / unit)
    exact = [Decimal(c) * Decimal(100) / Decimal(total) for c in counts]
    floors = [(e / unit).to_integral_value(rounding=ROUND_FLOOR) for e in exact]
    missing = units_total - int(sum(floors))
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] / unit - floors[i]), -counts[i], i))
    for i in order[:missing]:
        floors[i] += 1
    return [float(f * unit) for f in floors]


def fmt_number(value: float, lang: str, decimals: int = 1) -> str:
    s = f"{value:.{decimals}f}"
    return s.replace(".", ",") if lang == "fr" else s


def fmt_pct(value: float, lang: str, decimals: int = 1) -> str:
    s = fmt_number(value, lang, decimals)
    if lang == "fr":
        return s + "\u00a0%"
    return s + "%"


def fmt_rate(num: int, den: int, lang: str) -> str:
    if not den:
        return "—"
    return fmt_pct(100.0 * num / den, lang)


def fmt_duration(seconds: float | None, lang: str) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "—"
    hours = seconds / 3600.0
    if hours < 48:
        return f"{hours:.1f}".replace(".", "," if lang == "fr" else ".") + " h"
    days = hours / 24.0
    unit = "j" if lang == "fr" else "d"
    return f"{days:.1f}".replace(".", "," if lang == "fr" else ".") + f" {unit}"


def code_label(dim: str, code, lang: str) -> str:
    if dim == "treatment":
        if not code:
            return t("unknown", lang)
        try:
            return f"{localized(country(code)['names'], lang)} ({code})"
        except KeyError:
            return str(code)
    return label(DIMENSIONS[dim], code, lang)


def breakdown_rows(bilan: dict, dim: str, lang: str = "fr", decimals: int = 1) -> list[dict]:
    """[{code, label, count, share}] of a dimension, unknown last.

    THE denominator rule, the same in every table and in the text: a share is
    count ÷ the number of requests of the period (``bilan["total"]``), the
    unknown row included, rounded by the largest remainder so that the rows
    sum to exactly 100.
    """
    rows = [r for r in bilan[dim] if not (dim in _NO_UNKNOWN and r["code"] is None and r["count"] == 0)]
    shares = largest_remainder([r["count"] for r in rows], decimals)
    return [
        {"code": r["code"] if r["code"] is not None else "", "label": code_label(dim, r["code"], lang),
         "count": r["count"], "share": s}
        for r, s in zip(rows, shares)
    ]


def unknown_count(bilan: dict, dim: str) -> int:
    return sum(r["count"] for r in bilan[dim] if r["code"] in UNKNOWN_CODES)


def excluded_rows(bilan: dict, lang: str = "fr") -> list[dict]:
    """Sessions not counted as requests, by reason (counts only: they are outside the denominator)."""
    return [{"code": r["code"], "label": label("exclusions", r["code"], lang), "count": r["count"]}
            for r in bilan.get("excluded", [])]


def excluded_total(bilan: dict) -> int:
    return sum(r["count"] for r in bilan.get("excluded", []))


def evolution(now: int, before: int, lang: str) -> str:
    """(now − before) ÷ before, signed; "—" without a previous figure."""
    if not before:
        return "—"
    value = 100.0 * (now - before) / before
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return sign + fmt_pct(abs(value), lang)


def comparison_rows(bilan: dict, lang: str = "fr") -> list[dict]:
    """This period against the previous one of the same length: requests, by channel, escalated."""
    prev = bilan.get("previous")
    if not prev:
        return []
    rows = [{"label": t("total_enquiries", lang), "now": bilan["total"], "before": prev["total"]}]
    for r in bilan["channel"]:
        if r["code"] is None:
            continue
        before = prev["channel"].get(r["code"], 0)
        if r["count"] or before:
            rows.append({"label": label("channels", r["code"], lang), "now": r["count"], "before": before})
    rows.append({"label": t("escalated", lang), "now": bilan["escalated"], "before": prev["escalated"]})
    rows.append({"label": t("excluded_sessions", lang), "now": excluded_total(bilan), "before": prev["excluded"]})
    for r in rows:
        r["evolution"] = evolution(r["now"], r["before"], lang)
    return rows


def question_rows(bilan: dict, lang: str = "fr") -> list[dict]:
    return [{"code": r["code"], "label": question_label(r["code"], lang), "count": r["count"]}
            for r in bilan["top_questions"]]


def _month_name(month: int, lang: str) -> str:
    return ui_labels()["months"][lang][month - 1]


def _period_phrase(start: dt.date, end: dt.date, lang: str) -> str:
    """'D'avril à fin octobre 2025' for full months, else explicit dates (end inclusive)."""
    full_months = start.day == 1 and (end + dt.timedelta(days=1)).day == 1
    if lang == "fr":
        if full_months:
            m1, m2 = _month_name(start.month, "fr"), _month_name(end.month, "fr")
            y1 = f" {start.year}" if start.year != end.year else ""
            de = "D'" if m1[0] in "aeiouyéèâ" else "De "
            if start.year == end.year and start.month == end.month:
                return f"En {m1} {start.year}"
            return f"{de}{m1}{y1} à fin {m2} {end.year}"
        return f"Du {start.day:d} {_month_name(start.month, 'fr')} {start.year} au {end.day:d} {_month_name(end.month, 'fr')} {end.year}"
    if full_months:
        m1, m2 = _month_name(start.month, "en"), _month_name(end.month, "en")
        y1 = f" {start.year}" if start.year != end.year else ""
        if start.year == end.year and start.month == end.month:
            return f"In {m1} {start.year}"
        return f"From {m1}{y1} to the end of {m2} {end.year}"
    return f"From {start.day:d} {_month_name(start.month, 'en')} {start.year} to {end.day:d} {_month_name(end.month, 'en')} {end.year}"


def _parts(bilan: dict, dim: str, lang: str) -> str:
    """'Label (x %) ; …' with the table's own shares; the unknown row last, named as such."""
    sep = " ; " if lang == "fr" else "; "
    out = []
    for r in breakdown_rows(bilan, dim, lang):
        if r["count"] == 0:
            continue
        name = t("unknown_lower", lang) if r["code"] in UNKNOWN_CODES else r["label"]
        if dim == "category" and r["code"] not in UNKNOWN_CODES:
            name = f"« {name} »" if lang == "fr" else f"“{name}”"
        out.append(f"{name} ({fmt_pct(r['share'], lang)})")
    return sep.join(out)


def paragraph(bilan: dict, lang: str = "fr") -> str:
    """The bilan paragraph in the style of the 2015 press kit; its shares are the tables' shares."""
    start, end = bilan["start"], bilan["end"]
    if isinstance(start, str):
        start, end = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    n = bilan["total"]
    period = _period_phrase(start, end, lang)
    skipped = excluded_total(bilan)
    if n == 0:
        return f"{period}, aucune demande n'a été enregistrée." if lang == "fr" else f"{period}, no enquiry was recorded."
    esc = bilan["escalated"]
    if lang == "fr":
        return (
            f"{period}, {n} demandes individuelles ont été traitées"
            f" ({skipped} sessions sans question réelle — tests, sessions vides, essais — ne sont pas comptées). "
            f"Canaux : {_parts(bilan, 'channel', 'fr')}. "
            f"Les demandes portaient sur : {_parts(bilan, 'category', 'fr')}. "
            f"Profils des publics sollicitant le PCN : {_parts(bilan, 'profile', 'fr')}. "
            f"Les demandes émanent des pays suivants : {_parts(bilan, 'origin', 'fr')}. "
            f"{esc} demandes ({fmt_rate(esc, n, 'fr')}) ont été transmises à un agent du PCN. "
            f"Toutes les parts sont calculées sur les {n} demandes de la période, inconnues comprises."
        )
    return (
        f"{period}, {n} individual enquiries were handled"
        f" ({skipped} sessions without a real question — tests, empty sessions, tries — are not counted). "
        f"Channels: {_parts(bilan, 'channel', 'en')}. "
        f"The enquiries concerned: {_parts(bilan, 'category', 'en')}. "
        f"Profiles of the requesters: {_parts(bilan, 'profile', 'en')}. "
        f"The enquiries came from: {_parts(bilan, 'origin', 'en')}. "
        f"{esc} enquiries ({fmt_rate(esc, n, 'en')}) were escalated to an NCP adviser. "
        f"Every share is out of the {n} enquiries of the period, unknowns included."
    )


def default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last six full months: (first day, last day inclusive)."""
    today = today or dt.date.today()
    first_this_month = today.replace(day=1)
    end = first_this_month - dt.timedelta(days=1)
    y, m = first_this_month.year, first_this_month.month - 6
    while m <= 0:
        m += 12
        y -= 1
    return dt.date(y, m, 1), end


def title(lang: str) -> str:
    return t("bilan_title", lang)
