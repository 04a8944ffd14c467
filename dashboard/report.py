"""Turning bilan figures into rows, shares and the bilan paragraph (FR/EN).

One rounding rule everywhere: the largest-remainder method, so that every
table of shares sums to exactly 100 (the 2015 bilan's origins summed to 98.2 %).
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_FLOOR, Decimal

from dashboard.i18n import label, question_label, t, ui_labels

# bilan dimension -> vocabulary of its codes
DIMENSIONS = {
    "category": "categories",
    "profile": "profiles",
    "origin": "origin_groups",
    "outcome": "enquiry_outcomes",
}


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


def fmt_pct(value: float, lang: str, decimals: int = 1) -> str:
    s = f"{value:.{decimals}f}"
    if lang == "fr":
        return s.replace(".", ",") + "\u00a0%"
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


def breakdown_rows(bilan: dict, dim: str, lang: str = "fr", decimals: int = 1) -> list[dict]:
    """[{code, label, count, share}] for a dimension, unknown last, shares sum to 100."""
    rows = bilan[dim]
    shares = largest_remainder([r["count"] for r in rows], decimals)
    vocab = DIMENSIONS[dim]
    return [
        {"code": r["code"] if r["code"] is not None else "", "label": label(vocab, r["code"], lang),
         "count": r["count"], "share": s}
        for r, s in zip(rows, shares)
    ]


def unknown_count(bilan: dict, dim: str) -> int:
    return sum(r["count"] for r in bilan[dim] if r["code"] in (None, "UNK", "UNKNOWN"))


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
    """'67 % portaient sur « … » ; 9 % sur « … »' (categories) or 'Label (x %) ; …'.

    Shares among the known values (as in 2015); the paragraph states that
    denominator and the unknown count next to it.
    """
    dec = 0 if dim == "category" else 1
    known = [r for r in bilan[dim] if r["code"] not in (None, "UNK", "UNKNOWN")]
    shares = largest_remainder([r["count"] for r in known], dec)
    rows = [{"code": r["code"], "label": label(DIMENSIONS[dim], r["code"], lang), "count": r["count"], "share": s}
            for r, s in zip(known, shares)]
    sep = " ; " if lang == "fr" else "; "
    out = []
    for r in rows:
        if r["count"] == 0 or r["code"] in ("", "UNK", "UNKNOWN"):
            continue
        pct = fmt_pct(r["share"], lang, dec)
        if dim == "category":
            if lang == "fr":
                verb = "portaient sur" if not out else "sur"
                out.append(f"{pct} {verb} « {r['label']} »")
            else:
                verb = "concerned" if not out else "on"
                out.append(f"{pct} {verb} “{r['label']}”")
        else:
            out.append(f"{r['label']} ({pct})")
    return sep.join(out)


def paragraph(bilan: dict, lang: str = "fr") -> str:
    """The bilan paragraph in the style of the 2015 press kit, with denominators."""
    start, end = bilan["start"], bilan["end"]
    if isinstance(start, str):
        start, end = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    n = bilan["total"]
    period = _period_phrase(start, end, lang)
    if n == 0:
        return f"{period}, aucune demande n'a été enregistrée." if lang == "fr" else f"{period}, no enquiry was recorded."
    esc = next((r["count"] for r in bilan["outcome"] if r["code"] == "escalated"), 0)
    cat_unknown = unknown_count(bilan, "category")
    prof_unknown = unknown_count(bilan, "profile")
    orig_unknown = unknown_count(bilan, "origin")
    if lang == "fr":
        cats = _parts(bilan, "category", "fr")
        text = (
            f"{period}, {n} demandes individuelles ont été traitées : {cats}"
            f" (parts des {n - cat_unknown} demandes de catégorie connue ; {cat_unknown} inconnue(s)). "
            f"Profils des publics sollicitant le PCN : {_parts(bilan, 'profile', 'fr')} "
            f"(sur {n - prof_unknown} profils connus ; {prof_unknown} inconnu(s)). "
            f"Les demandes émanent des pays suivants : {_parts(bilan, 'origin', 'fr')} "
            f"(sur {n - orig_unknown} origines connues ; {orig_unknown} inconnue(s)). "
            f"{esc} demandes ({fmt_rate(esc, n, 'fr')}) ont été transmises à un agent du PCN."
        )
    else:
        text = (
            f"{period}, {n} individual enquiries were handled: {_parts(bilan, 'category', 'en')}"
            f" (shares of the {n - cat_unknown} enquiries with a known category; {cat_unknown} unknown). "
            f"Profiles of the requesters: {_parts(bilan, 'profile', 'en')} "
            f"(out of {n - prof_unknown} known profiles; {prof_unknown} unknown). "
            f"The enquiries came from: {_parts(bilan, 'origin', 'en')} "
            f"(out of {n - orig_unknown} known origins; {orig_unknown} unknown). "
            f"{esc} enquiries ({fmt_rate(esc, n, 'en')}) were escalated to a PCN agent."
        )
    return text


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
